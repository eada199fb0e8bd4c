"""The worklist's row facts kept per process under each account's page-version token
(`portal.collections.worklists`, issue 15): after every kind of change a row shows (a fee, a
payment, the account row, a plan agreed, an instalment paid, a promise broken, a contact, a
new collector, the next day) and after each step of the account pages' sequences of money
events in several orders, the page built from kept facts is the page built afresh, row for
row; and facts are only kept under a token. Runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

import pytest

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.accounts.versions import PageVersion
from portal.collections import services as collections, worklists
from portal.collections.models import ContactChannel, ContactDirection, ContactOutcome
from portal.core.today import staff_today
from portal.extensions import db as _db
from portal.plans.models import InstalmentStatus, PlanStatus
from portal.timeutil import utcnow
from tests.integration.account_pages_helpers import freeze_today
from tests.integration.plan_helpers import TODAY, agree, spec
from tests.integration.test_page_figures import _steps


@pytest.fixture()
def worklist(app, make_account, make_staff):
    manager, collector = make_staff("collections_manager"), make_staff("collector")
    accounts = [make_account(principal=400_000 + 10_000 * n, minimum_due=20_000,
                             oldest_unpaid_due_date=TODAY - timedelta(days=20 + n))
                for n in range(4)]
    collections.assign([a.id for a in accounts], collector.id, manager)
    _db.session.commit()
    return {"manager": manager, "collector": collector, "accounts": accounts,
            "other": make_staff("collector")}


def _both(app, monkeypatch, collector_id, as_of=TODAY):
    """The page as kept facts give it (after a first read that keeps them), and as built."""
    app.extensions.pop("worklist_facts", None)
    monkeypatch.setattr(worklists, "FACTS_KEPT", True)
    worklists.assigned_accounts(collector_id, as_of)
    kept = worklists.assigned_accounts(collector_id, as_of)
    monkeypatch.setattr(worklists, "FACTS_KEPT", False)
    built = worklists.assigned_accounts(collector_id, as_of)
    monkeypatch.setattr(worklists, "FACTS_KEPT", True)
    return kept.rows, built.rows


def _kept_then(app, monkeypatch, collector_id, as_of=TODAY):
    """The page from the facts kept so far (not emptied first), and the page built afresh."""
    monkeypatch.setattr(worklists, "FACTS_KEPT", True)
    kept = worklists.assigned_accounts(collector_id, as_of)
    monkeypatch.setattr(worklists, "FACTS_KEPT", False)
    built = worklists.assigned_accounts(collector_id, as_of)
    monkeypatch.setattr(worklists, "FACTS_KEPT", True)
    return kept.rows, built.rows


def _row(rows, account):
    return next(row for row in rows if row.account.id == account.id)


def _entry(account, kind, component, amount, day=TODAY):
    _db.session.add(LedgerEntry(account_id=account.id, kind=kind, component=component,
                                amount=amount, currency=account.currency, effective_date=day,
                                source_ref=f"test-{kind.value}-{amount}", posted_at=utcnow()))


def test_kept_facts_follow_every_change_a_row_shows(app, monkeypatch, worklist, clock):
    collector, manager = worklist["collector"], worklist["manager"]
    a, b, c, d = worklist["accounts"]
    kept, built = _both(app, monkeypatch, collector.id)
    assert kept == built and len(kept) == 4
    stored = app.extensions["worklist_facts"]
    assert {a.id, b.id, c.id, d.id} <= set(stored)

    def changed(step, account, before):
        """After `step`, the kept page (facts kept before the step) is the built one, and
        the account's row shows the change."""
        step()
        _db.session.commit()
        kept, built = _kept_then(app, monkeypatch, None)
        assert kept == built
        assert _row(kept, account) != before
        return kept

    rows = worklists.assigned_accounts(None, TODAY).rows
    rows = changed(lambda: _entry(a, EntryKind.FEE, Component.FEE, 2_500), a, _row(rows, a))
    rows = changed(lambda: _entry(a, EntryKind.PAYMENT, Component.PRINCIPAL, -30_000), a,
                   _row(rows, a))

    def account_row():
        b.minimum_due = 45_000
    rows = changed(account_row, b, _row(rows, b))

    with app.test_request_context():
        plan = agree(c, spec())
    _db.session.commit()
    kept, built = _kept_then(app, monkeypatch, None)
    assert plan.status == PlanStatus.ACTIVE
    assert kept == built and _row(kept, c).plan_status == plan.status.value
    first = min(plan.instalments, key=lambda i: (i.due_date, i.id))

    def paid():
        first.paid_amount, first.status = first.amount, InstalmentStatus.PAID
    before = _row(kept, c)
    assert before.next_due == first.due_date
    rows = changed(paid, c, before)
    assert _row(rows, c).next_due != first.due_date
    rows = worklists.assigned_accounts(None, TODAY).rows

    def broken_promise():
        collections.log_contact(
            d, collector, channel=ContactChannel.PHONE, direction=ContactDirection.OUTBOUND,
            outcome=ContactOutcome.PROMISED, note="will pay",
            occurred_at=datetime.combine(TODAY - timedelta(days=12), time(10),
                                         tzinfo=timezone.utc),
            promise=collections.Promise(amount=10_000, promised_on=TODAY - timedelta(days=10)))
    rows = changed(broken_promise, d, _row(rows, d))
    assert _row(rows, d).broken_promises == 1 and _row(rows, d).last_contact is not None

    def contact_without_promise():  # the contact log renews no token: read with the page
        collections.log_contact(
            a, collector, channel=ContactChannel.SMS, direction=ContactDirection.OUTBOUND,
            outcome=ContactOutcome.NO_ANSWER, note="",
            occurred_at=datetime.combine(TODAY - timedelta(days=1), time(9),
                                         tzinfo=timezone.utc))
    rows = changed(contact_without_promise, a, _row(rows, a))

    def reassign():  # the collector column (the team's list): read with the page
        collections.assign([b.id], worklist["other"].id, manager)
    rows = changed(reassign, b, _row(rows, b))
    assert _row(rows, b).collector_id == worklist["other"].id

    tomorrow = TODAY + timedelta(days=1)  # the day is in the key: the next day's facts
    kept, built = _kept_then(app, monkeypatch, None, tomorrow)
    assert kept == built
    assert _row(kept, d).balance.days_past_due == _row(rows, d).balance.days_past_due + 1 > 1


def test_facts_are_kept_only_under_a_token(app, monkeypatch, worklist):
    """An account whose token row is missing (none of its watched writes yet) has its facts
    built on every read and never kept."""
    a = worklist["accounts"][0]
    _db.session.query(PageVersion).filter_by(account_id=a.id).delete()
    _db.session.commit()
    app.extensions.pop("worklist_facts", None)
    kept, built = _both(app, monkeypatch, worklist["collector"].id)
    assert kept == built
    assert a.id not in app.extensions["worklist_facts"]


@pytest.mark.parametrize("order", [0, 1, 2])
def test_kept_facts_equal_built_ones_after_every_money_event(
        app, db, make_account, make_staff, monkeypatch, clock, order):
    """The account pages' sequences of money events (`test_page_figures._steps`: payments, a
    fee, the issuer's acknowledgement and feed, the nightly run, a plan and a missed
    instalment, a dispute, a promise, a breathing space, a legal step, a new policy, the next
    day), in several orders: after each, the worklist from the facts kept so far is the one
    built afresh."""
    freeze_today(clock)
    a = make_account(principal=480_000, interest=15_000, fees=5_000, minimum_due=50_000,
                     oldest_unpaid_due_date=date(2026, 10, 1), effective=date(2026, 10, 20))
    b = make_account(a.cardholder, principal=200_000, minimum_due=20_000,
                     oldest_unpaid_due_date=date(2026, 11, 10), effective=date(2026, 11, 1))
    manager, collector = make_staff("collections_manager"), make_staff("collector")
    collections.assign([a.id, b.id], collector.id, manager)
    db.session.commit()
    steps = _steps(db, a, b, make_staff, clock)
    if order:
        random.Random(order).shuffle(steps)
    app.extensions.pop("worklist_facts", None)
    worklists.assigned_accounts(collector.id, staff_today())
    for step in steps:
        step()
        db.session.commit()
        kept, built = _kept_then(app, monkeypatch, collector.id, staff_today())
        assert kept == built and len(kept) == 2
