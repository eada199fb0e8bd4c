"""KPI report: every figure checked against a small world whose answers were worked out by
hand, the plans report, the page itself, and a query count that does not grow with the team."""
from __future__ import annotations

from datetime import date, datetime, timezone
from fractions import Fraction

import pytest
from sqlalchemy import event

from portal.collections.models import (ContactChannel, ContactDirection, ContactLog,
                                       ContactOutcome, PromiseToPay)
from portal.collections.reports import Period, collector_report, plans_report
from portal.extensions import db
from tests.integration.collections_helpers import at, complaint, hold, make_plan, pay, refund

NOV = Period(date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 12, 5, 4, tzinfo=timezone.utc)  # noon on 5 December in Shanghai


def contact(account, staff, when, promise=None, *, outcome=ContactOutcome.REACHED,
            direction=ContactDirection.OUTBOUND):
    row = ContactLog(account_id=account.id, staff_id=staff.id, channel=ContactChannel.PHONE,
                     direction=direction, outcome=outcome, note="", occurred_at=when)
    db.session.add(row)
    db.session.flush()
    if promise:
        amount, made_on, due = promise
        db.session.add(PromiseToPay(contact_id=row.id, account_id=account.id, staff_id=staff.id,
                                    amount=amount, currency=account.currency, made_on=made_on,
                                    promised_on=due))
    db.session.commit()
    return row


@pytest.fixture()
def world(make_account, make_staff):
    d = lambda day, month=11: date(2026, month, day)  # noqa: E731
    ann, bo = make_staff("collector", name="Ann"), make_staff("collector", name="Bo")
    cy = make_staff("collector", name="Cy")
    cy.active = False
    manager = make_staff("collections_manager", name="Meg")
    acc1, acc2, acc3 = make_account(), make_account(), make_account()
    acc4, acc5 = make_account(), make_account()
    acc6 = make_account(currency="USD", profile="us")
    hold(acc1, ann, at(d(1, 10)))
    hold(acc2, ann, at(d(1, 10)), at(d(15)))
    hold(acc2, bo, at(d(15)))
    hold(acc3, bo, at(d(20)))
    hold(acc4, ann, at(d(2, 12)))           # after the period
    hold(acc5, bo, at(d(1, 9)), at(d(20, 10)))  # before it
    hold(acc6, bo, at(d(1)))

    contact(acc1, ann, at(d(2)), (10_000, d(2), d(5)))       # kept by the 4th
    contact(acc1, ann, at(d(10)), (5_000, d(10), d(12)))     # 2,000 paid: broken
    contact(acc2, ann, at(d(30), 23), (9_000, d(30), d(10, 12)))  # not yet due on 5 Dec
    contact(acc1, ann, at(d(31, 10), 23), (1_000, d(31, 10), d(1)))  # before the period
    contact(acc2, bo, at(d(16)), (3_000, d(16), d(18)))      # kept on the 18th
    contact(acc1, manager, at(d(3)))                          # a manager's: nobody's row

    pay(acc1, 10_000, d(4))
    pay(acc1, 2_000, d(11))
    refund(pay(acc1, 5_000, d(20)), d(22))   # refunded: nets to nothing
    pay(acc2, 4_000, d(10))                  # Ann held acc2 then
    pay(acc2, 3_000, d(18))                  # Bo
    pay(acc3, 7_000, d(19))                  # before Bo took acc3: nobody's
    pay(acc3, 1_000, d(25))                  # Bo
    pay(acc6, 2_500, d(5))                   # Bo, in dollars
    pay(acc1, 9_999, d(1, 12))               # after the period

    make_plan(acc1, "active", started_on=d(3), decided_by=ann, decided_at=at(d(3)))
    make_plan(acc1, "countered", created=at(d(5)), decided_by=ann, decided_at=at(d(5)),
              reason="Fewer months.")
    make_plan(acc2, "active", started_on=d(6), decided_by=ann, decided_at=at(d(6)),
              reason="Longer term.", missed=True)
    make_plan(acc1, "rejected", created=at(d(7)), decided_by=ann, decided_at=at(d(7)),
              reason="Not affordable.")
    make_plan(acc2, "completed", started_on=d(16), decided_by=bo, decided_at=at(d(16)))
    make_plan(acc2, "completed", started_on=d(15))  # the day acc2 moved to Bo: Bo's
    make_plan(acc3, "broken", started_on=d(21))
    make_plan(acc6, "cancelled", started_on=d(2), kind="settlement")
    make_plan(acc1, "broken", started_on=d(15, 10))
    make_plan(acc1, "completed", started_on=d(30, 10), decided_by=ann, decided_at=at(d(30, 10)))

    complaint(acc2, at(d(10)))
    complaint(acc2, at(d(16)))
    complaint(acc3, at(d(19)))                       # nobody held acc3 yet
    complaint(acc1, at(d(12)), category="wrong_amount")
    complaint(acc1, at(d(20, 10)))                   # before the period
    return ann, bo, cy


FIELDS = ("accounts_held", "contacts", "promises_made", "promises_kept", "promises_broken",
          "promises_pending", "approved", "countered", "rejected", "plans_kept", "plans_behind",
          "plans_broken", "plans_cancelled", "complaints")


def _figures(row):
    return {f: getattr(row, f) for f in FIELDS}


def test_every_collector_kpi_matches_the_hand_count(world):
    rows, team = collector_report(NOV, NOW)
    by_name = {r.name: r for r in rows}
    assert list(by_name) == ["Ann", "Bo", "Cy"]
    assert _figures(by_name["Ann"]) == dict(
        accounts_held=2, contacts=3, promises_made=3, promises_kept=1, promises_broken=1,
        promises_pending=1, approved=1, countered=2, rejected=1, plans_kept=1, plans_behind=1,
        plans_broken=0, plans_cancelled=0, complaints=1)
    assert _figures(by_name["Bo"]) == dict(
        accounts_held=3, contacts=1, promises_made=1, promises_kept=1, promises_broken=0,
        promises_pending=0, approved=1, countered=0, rejected=0, plans_kept=2, plans_behind=0,
        plans_broken=1, plans_cancelled=1, complaints=1)
    assert _figures(by_name["Cy"]) == {f: 0 for f in FIELDS}
    assert not by_name["Cy"].active
    assert by_name["Ann"].collected == {"CNY": 16_000}
    assert by_name["Bo"].collected == {"CNY": 4_000, "USD": 2_500}
    assert by_name["Ann"].plans_kept_rate == Fraction(1, 2)
    assert by_name["Bo"].plans_kept_rate == Fraction(2, 3)
    assert by_name["Cy"].plans_kept_rate is None


def test_team_row_adds_up_and_counts_each_account_once(world):
    _, team = collector_report(NOV, NOW)
    assert _figures(team) == dict(
        accounts_held=4, contacts=4, promises_made=4, promises_kept=2, promises_broken=1,
        promises_pending=1, approved=2, countered=2, rejected=1, plans_kept=3, plans_behind=1,
        plans_broken=1, plans_cancelled=1, complaints=2)
    assert team.collected == {"CNY": 20_000, "USD": 2_500}
    assert team.plans_kept_rate == Fraction(3, 5)


def test_plans_report_counts_amounts_and_kept_rates(world):
    groups = plans_report(NOV)
    status = {g.key: (g.count, g.amounts) for g in groups["status"]}
    assert status == {"active": (2, {"CNY": 240_000}), "countered": (1, {"CNY": 120_000}),
                      "rejected": (1, {"CNY": 120_000}), "completed": (2, {"CNY": 240_000}),
                      "broken": (1, {"CNY": 120_000}), "cancelled": (1, {"USD": 120_000})}
    kinds = {g.key: (g.count, g.kept_rate) for g in groups["kind"]}
    assert kinds == {"instalment": (7, Fraction(3, 5)), "settlement": (1, None)}
    profiles = {g.key: (g.count, g.kept_rate) for g in groups["profile"]}
    assert profiles == {"cn": (7, Fraction(3, 5)), "us": (1, None)}


def test_report_page_shows_money_next_to_plans_kept_and_complaints(world, client, login_as,
                                                                   make_staff):
    login_as(client, make_staff("collections_manager"))
    response = client.get("/staff/collections/reports?date_from=2026-11-01&date_to=2026-11-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Collectors are never evaluated on the amounts recovered alone." in page
    for heading in ("Share of plans kept", "Collected", "Conduct complaints", "Promises kept"):
        assert heading in page
    assert "50%" in page and "67%" in page and "60%" in page
    assert "CN¥160.00" in page and "$25.00" in page
    assert "(switched off)" in page
    csv = client.get("/staff/collections/reports?date_from=2026-11-01&date_to=2026-11-30"
                     "&format=csv")
    lines = csv.get_data(as_text=True).splitlines()
    assert csv.mimetype == "text/csv" and lines[0].startswith("collector,accounts_held")
    assert lines[1].startswith("Ann,2,3,3,1,1,1,2,1,2,1,1,0,0,1,50,16000")


def _world_of(n, make_account, make_staff):
    d = lambda day: date(2026, 11, day)  # noqa: E731
    for i in range(n):
        collector = make_staff("collector", name=f"Collector {i:02d}")
        account = make_account()
        hold(account, collector, at(d(1)))
        contact(account, collector, at(d(2)), (1_000, d(2), d(4)))
        pay(account, 1_000, d(3))
        make_plan(account, "active", started_on=d(5), decided_by=collector, decided_at=at(d(5)))
        complaint(account, at(d(6)))


def _queries(fn):
    engine = db.engine
    seen = []

    def count(*args, **kwargs):
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_report_query_count_does_not_grow_with_the_team(make_account, make_staff):
    def run():
        rows, _ = collector_report(NOV, NOW)
        plans_report(NOV)
        return rows

    _world_of(3, make_account, make_staff)
    db.session.expire_all()
    three = _queries(run)
    _world_of(7, make_account, make_staff)
    db.session.expire_all()
    ten = _queries(run)
    rows, team = collector_report(NOV, NOW)
    assert len(rows) == 10 and team.contacts == 10 and team.plans_kept == 10
    assert three == ten <= 11
