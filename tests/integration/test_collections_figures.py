"""Managers' figures: every number checked against a small world worked out by hand, the page
in both languages, hostile inputs, and a statement count that does not grow with the accounts."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

import pytest

from portal.collections.figures import figures
from portal.collections.models import (ContactChannel, ContactDirection, ContactLog,
                                       ContactOutcome, PromiseToPay)
from portal.collections.reports import Period
from portal.collections.rules import Ratio
from portal.consequences.models import StageChange
from portal.extensions import db
from portal.payments.models import Payment, PaymentChoice
from portal.payments.states import PaymentStatus
from tests.integration.collections_helpers import at, make_plan, pay
from tests.integration.test_collections_reports import _queries, contact

NOV = Period(date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 12, 5, 4, tzinfo=timezone.utc)
ORDER = ["current", "early", "m1", "m2", "m3", "charge_off"]
OCT1 = datetime(2026, 10, 1, tzinfo=timezone.utc)
_keys = itertools.count(1)


def d(day, month=11):
    return date(2026, month, day)


def moves(account, *steps):
    """Stage moves: (day, from, to)."""
    for day, before, after in steps:
        db.session.add(StageChange(account_id=account.id, changed_on=day, from_stage=before,
                                   to_stage=after, days_late=0, policy_version=1))
    db.session.commit()


def payment(account, day, status=PaymentStatus.SUCCEEDED):
    db.session.add(Payment(account_id=account.id, choice=PaymentChoice.OTHER, amount=1_000,
                           currency=account.currency, provider="sandbox",
                           idempotency_key=f"fig-{next(_keys)}", status=status, paid_on=day))
    db.session.commit()


@pytest.fixture()
def world(make_account, make_staff):
    ann = make_staff("collector", name="Ann")
    a1, a2, a3, a4, a5, a6 = (make_account(created_at=OCT1) for _ in range(6))
    a7 = make_account(currency="USD", profile="us", created_at=OCT1)
    a8 = make_account(created_at=at(d(10)))  # fed in during the period: not in the stages
    moves(a1, (d(20, 10), "current", "early"), (d(15), "early", "m1"))     # early, rolled
    moves(a2, (d(10, 10), "current", "m1"), (d(20), "m1", "current"))      # cured alone
    moves(a3, (d(10, 10), "current", "m1"), (d(10), "m1", "current"))      # cured, contacted
    moves(a4, (d(25, 10), "current", "early"))                             # stays early
    moves(a5, (d(1, 10), "current", "m1"), (d(3), "m1", "m2"), (d(28), "m2", "m3"))  # rolled
    moves(a7, (d(10, 10), "current", "m1"), (d(20), "m1", "current"))      # another profile
    moves(a8, (d(12), "current", "early"))

    contact(a3, ann, at(d(5)))                                              # reached
    contact(a1, ann, at(d(6)), outcome=ContactOutcome.NO_ANSWER,
            promise=(3_000, d(6), d(9)))                                    # broken promise
    contact(a1, ann, at(d(7)), direction=ContactDirection.INBOUND)          # not an attempt
    contact(a4, ann, at(d(8)), outcome=ContactOutcome.PROMISED,
            promise=(5_000, d(8), d(12)))                                   # kept on the 11th
    pay(a4, 5_000, d(11))
    contact(a5, ann, at(d(25)), promise=(2_000, d(25), d(10, 12)))         # due after the period
    contact(a7, ann, at(d(5)))                                              # another profile

    make_plan(a6, "active", started_on=d(4))                                # self-service, kept
    make_plan(a1, "broken", started_on=d(5))                                # self-service, broken
    make_plan(a4, "active", started_on=d(6), decided_by=ann, decided_at=at(d(6)),
              reason="Smaller payments.", missed=True)                      # counter, behind
    make_plan(a5, "broken", started_on=d(7), decided_by=ann, decided_at=at(d(7)))  # staff, broken
    make_plan(a5, "cancelled", started_on=d(8), decided_by=ann, decided_at=at(d(8)))
    make_plan(a7, "broken", started_on=d(8))                                # another profile
    make_plan(a3, "broken", started_on=d(5, 10))                            # before the period

    payment(a2, d(15))                                                      # no contact: alone
    payment(a3, d(12))                                                      # contact on the 5th
    payment(a3, d(25))                                                      # 20 days after it
    payment(a1, d(14), PaymentStatus.FAILED)
    payment(a7, d(14))
    return ann


def test_every_figure_matches_the_hand_count(world):
    f = figures("cn", ORDER, NOV, NOW)
    assert [(a, b, r) for a, b, r in f.stages.rolls] == [
        ("early", "m1", Ratio(1, 2)), ("m1", "m2", Ratio(1, 3)), ("m2", "m3", Ratio(0, 0)),
        ("m3", "charge_off", Ratio(0, 0))]
    assert f.stages.cure == Ratio(2, 5)
    assert f.stages.self_cure == Ratio(1, 5)
    assert f.right_party == Ratio(3, 4)  # a3, a4 and a5 reached; a1 no answer
    assert f.promises_kept == Ratio(1, 2) and f.promises_pending == 0
    assert f.no_contact_payments == Ratio(2, 3)
    breaks = {b.setup: (b.broken, b.judged, b.cancelled) for b in f.plan_breaks}
    assert breaks == {"self_service": (1, 2, 0), "counter_offer": (0, 1, 0),
                      "collector": (1, 1, 1)}


def test_a_promise_not_yet_due_is_neither_kept_nor_broken(world, make_account):
    f = figures("cn", ORDER, Period(d(1, 12), d(31, 12)), NOW)
    assert f.promises_kept == Ratio(0, 0) and f.promises_pending == 1


def test_the_other_profile_has_its_own_figures(world):
    f = figures("us", ORDER, NOV, NOW)
    assert f.stages.cure == Ratio(1, 1) and f.stages.self_cure == Ratio(0, 1)  # a contact
    assert f.right_party == Ratio(1, 1)
    assert f.no_contact_payments == Ratio(0, 1)


def _accounts(n, make_account, ann):
    for _ in range(n):
        account = make_account(created_at=OCT1)
        moves(account, (d(1, 10), "current", "m1"), (d(20), "m1", "current"))
        contact(account, ann, at(d(5)), promise=(1_000, d(5), d(9)))
        make_plan(account, "active", started_on=d(6))
        payment(account, d(12))


def test_statement_count_does_not_grow_with_the_accounts(make_account, make_staff):
    ann = make_staff("collector")
    _accounts(3, make_account, ann)
    db.session.expire_all()
    three = _queries(lambda: figures("cn", ORDER, NOV, NOW))
    _accounts(27, make_account, ann)
    db.session.expire_all()
    thirty = _queries(lambda: figures("cn", ORDER, NOV, NOW))
    assert figures("cn", ORDER, NOV, NOW).stages.cure == Ratio(30, 30)
    assert three == thirty <= 6


@pytest.mark.parametrize("locale, words", [("en", "Roll rate from early to m1 or later"),
                                           ("zh_Hans", "滚动率")])
def test_the_page_shows_the_figures_with_their_counts(app, world, login_as, make_staff, clock,
                                                      locale, words):
    clock.move_to(NOW)
    client = login_as(app.test_client(), make_staff("collections_manager"))
    client.set_cookie("portal_locale", locale)
    page = client.get("/staff/collections/figures?date_from=2026-11-01&date_to=2026-11-30"
                      "&profile=cn")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert words in body


@pytest.mark.parametrize("query", [
    "date_from=2026-13-40", "date_from=2026-12-01&date_to=2026-11-01", "profile=nope",
    "profile=%EF%BF%BF", "date_to=" + "9" * 200, "profile=cn&profile=us",
    "date_from=0001-01-01&date_to=0001-01-02", "date_to=9999-12-31"])
def test_hostile_queries_fall_back_to_the_defaults(app, login_as, make_staff, query):
    client = login_as(app.test_client(), make_staff("risk"))
    assert client.get(f"/staff/collections/figures?{query}").status_code == 200


def test_a_nul_in_the_query_is_refused_not_a_server_error(app, login_as, make_staff):
    client = login_as(app.test_client(), make_staff("collections_manager"))
    assert client.get("/staff/collections/figures?profile=%00").status_code == 400


def test_a_date_out_of_reach_on_the_kpi_report_falls_back_to_this_month(app, login_as,
                                                                       make_staff):
    client = login_as(app.test_client(), make_staff("collections_manager"))
    page = client.get("/staff/collections/reports?date_to=9999-12-31")
    assert page.status_code == 200 and "Enter a date from 1900 to 9000." in page.get_data(
        as_text=True)
