"""The account pages' kept figures (portal.account_pages.figures, issue 15) always equal the
figures built afresh from the database: after every step of sequences of money events in
several orders (payments, fees, the issuer's acknowledgements and feed, the nightly run, a
plan and a missed instalment, a contesting dispute, a promise to pay, a breathing space, a
legal step, a new policy version, the next day), on SQLite and PostgreSQL."""
from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.account_pages import figures
from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.care import services as care
from portal.collections.models import PromiseSource, PromiseToPay
from portal.consequences import services as consequences
from portal.consequences import pauses
from portal.disputes import services as dispute_services
from portal.jobs.nightly import run_nightly
from portal.journal.models import AckSource, JournalAck
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment
from portal.policy.services import publish, shipped_document
from tests.integration.account_pages_helpers import NOW, freeze_today
from tests.integration.collections_helpers import pay
from tests.integration.legal_helpers import refer
from tests.integration.plan_helpers import agree


def _same_figures(db, accounts, as_of):
    db.session.expire_all()
    kept = figures.figures_for(accounts, as_of)
    built = figures.build(accounts, as_of)
    assert kept == built
    return kept


def _steps(db, a, b, make_staff, clock):
    def fee():
        db.session.add(LedgerEntry(account_id=b.id, kind=EntryKind.FEE, component=Component.FEE,
                                   amount=2_500, currency=b.currency,
                                   effective_date=date(2026, 11, 20), source_ref="test-fee:1"))

    def payment_acknowledged():
        entry = pay(a, 7_000, date(2026, 11, 26))
        db.session.add(JournalAck(ledger_entry_id=entry.id, account_id=a.id,
                                  feed_as_of=date(2026, 11, 27), source=AckSource.FEED))

    def feed_moves():
        a.minimum_due -= 1_000
        a.feed_as_of = date(2026, 11, 27)

    def plan_then_missed():
        if db.session.scalar(select(Plan.id).where(Plan.account_id == b.id)) is None:
            agree(b)
        else:
            db.session.execute(update(PlanInstalment).values(status=InstalmentStatus.MISSED)
                               .where(PlanInstalment.seq == 1))

    return [
        lambda: pay(a, 3_000, date(2026, 11, 25)),
        fee,
        payment_acknowledged,
        feed_moves,
        lambda: run_nightly(date(2026, 11, 27)),
        plan_then_missed,
        plan_then_missed,
        lambda: dispute_services.raise_dispute(
            a.cardholder, a, category="already_paid", amount=10_000, entry_ids=[],
            description="Paid in October.", now=NOW),
        lambda: db.session.add(PromiseToPay(
            made_by=PromiseSource.CARDHOLDER, account_id=b.id, cardholder_id=b.cardholder_id,
            amount=5_000, currency=b.currency, made_on=date(2026, 11, 28),
            promised_on=date(2026, 12, 2))),
        lambda: care.add_record(b, make_staff("customer_service"), kind="breathing_space",
                                reason="standard", starts_on=date(2026, 11, 28), ends_on=None,
                                note="Debt adviser's notice", today=date(2026, 11, 28)),
        lambda: refer(a, on=date(2026, 11, 27), days_late=58),
        lambda: publish("cn", shipped_document("cn"), date(2026, 11, 28),
                        today=date(2026, 11, 28), note="test"),
        lambda: clock.move_to(NOW + timedelta(days=1)),
    ]


def _pages(app, client, a, built: bool) -> list[str]:
    """The dashboard and the timeline as the reader sees them (the per-response nonce and
    form token left out), with the figures and page parts kept or all built afresh."""
    app.config["PAGE_FIGURES_KEPT"] = not built
    try:
        pages = [client.get(path).get_data(as_text=True)
                 for path in ("/home", f"/accounts/{a.id}/timeline")]
    finally:
        app.config["PAGE_FIGURES_KEPT"] = True
    return [re.sub(r'(nonce|value|content)="[^"]*"', "", page) for page in pages]


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_kept_figures_equal_built_ones_after_every_money_event(
        app, client, login_as, db, make_account, make_staff, clock, order):
    freeze_today(clock)
    a = make_account(principal=480_000, interest=15_000, fees=5_000, minimum_due=50_000,
                     oldest_unpaid_due_date=date(2026, 10, 1), effective=date(2026, 10, 20))
    b = make_account(a.cardholder, principal=200_000, minimum_due=20_000,
                     oldest_unpaid_due_date=date(2026, 11, 10), effective=date(2026, 11, 1))
    accounts = [a, b]
    steps = _steps(db, a, b, make_staff, clock)
    if order:
        random.Random(order).shuffle(steps)
    _same_figures(db, accounts, consequences.today_for(a))
    login_as(client, a.cardholder)
    _pages(app, client, a, built=False)
    for step in steps:
        step()
        db.session.commit()
        seen = _pages(app, client, a, built=False)  # the step is seen at once
        assert seen == _pages(app, client, a, built=False) == _pages(app, client, a, built=True)
        _same_figures(db, accounts, consequences.today_for(a))  # the step is seen at once
        kept = _same_figures(db, accounts, consequences.today_for(a))
        again = figures.figures_for(accounts, consequences.today_for(a))
        assert all(again[1][i] is kept[1][i] for i in (a.id, b.id))  # and then kept


def test_a_kept_figure_is_read_with_one_statement_and_none_for_a_new_account(
        db, make_account, clock):
    from tests.integration.test_shared_reads import statements_sent

    freeze_today(clock)
    a = make_account(oldest_unpaid_due_date=date(2026, 10, 1))
    as_of = consequences.today_for(a)
    figures.figures_for([a], as_of)
    with statements_sent(db) as seen:
        figures.figures_for([a], as_of)
    assert len(seen) == 1 and "page_version" in seen[0]


def test_the_triggers_cover_every_registered_timeline_source_and_pause_provider():
    """A new source or provider may read a table no trigger watches: add the table to the
    triggers (a migration), then its name to `figures.WATCHED_PROVIDERS`."""
    registered = {s.__name__ for s in consequences._ITEM_SOURCES}
    registered |= {p.__name__ for p in pauses._providers}
    registered |= {b.__name__ for b in pauses._batches.values()}
    assert registered == figures.WATCHED_PROVIDERS


def test_a_new_account_is_built_until_its_first_change_gives_it_a_token(db, make_account, clock):
    # Migration 0035: an account's own INSERT writes no token (nobody can have kept the
    # figures of an account that did not exist); its first watched write inserts one.
    from portal.accounts.versions import PageVersion

    freeze_today(clock)
    figures._kept().clear()  # an earlier test's account may have had this id
    a = make_account(principal=0, oldest_unpaid_due_date=date(2026, 10, 1))
    as_of = consequences.today_for(a)
    assert db.session.get(PageVersion, a.id) is None
    assert figures.keys_for([a], as_of) == {a.id: None}
    assert figures.figures_for([a], as_of) == figures.build([a], as_of)
    assert a.id not in figures._kept()  # built, not kept
    db.session.add(LedgerEntry(account_id=a.id, kind=EntryKind.STATEMENT_BALANCE,
                               component=Component.PRINCIPAL, amount=80_000,
                               currency=a.currency, effective_date=date(2026, 11, 1),
                               source_ref="test-opening:later"))
    db.session.commit()
    token = db.session.get(PageVersion, a.id).token
    kept = _same_figures(db, [a], as_of)
    assert kept[0][a.id].principal == 80_000 and a.id in figures._kept()
    a.minimum_due -= 1_000  # the account's own update renews it
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(PageVersion, a.id).token != token
