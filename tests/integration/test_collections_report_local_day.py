"""The collections report judges a promise on the cardholder's own date, not the UTC date: around
midnight UTC, a promise due "today" in Shanghai or New York is neither broken early nor left
pending late. Staff pages share one "today" (portal.core.today)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.collections.models import (ContactChannel, ContactDirection, ContactLog,
                                       ContactOutcome, PromiseToPay)
from portal.collections.reports import Period, collector_report
from portal.core.today import staff_today
from portal.extensions import db
from tests.integration.collections_helpers import at, hold, pay

DEC = Period(date(2026, 12, 1), date(2026, 12, 31))
DUE = date(2026, 12, 4)


def utc(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=timezone.utc)


def promise(account, staff, amount, made_on, due):
    """A phone contact on `made_on` in which the cardholder promised `amount` by `due`."""
    row = ContactLog(account_id=account.id, staff_id=staff.id, channel=ContactChannel.PHONE,
                     direction=ContactDirection.OUTBOUND, outcome=ContactOutcome.REACHED,
                     note="", occurred_at=at(made_on))
    db.session.add(row)
    db.session.flush()
    db.session.add(PromiseToPay(contact_id=row.id, account_id=account.id, staff_id=staff.id,
                                amount=amount, currency=account.currency, made_on=made_on,
                                promised_on=due))
    db.session.commit()


@pytest.fixture()
def promises(make_account, make_cardholder, make_staff):
    """Two collectors, each with one unpaid promise due on 4 December: Shan's cardholder lives
    in Shanghai (UTC+8), Nora's in New York (UTC-5), and one promise of Shan's already kept."""
    shan, nora = make_staff("collector", name="Shan"), make_staff("collector", name="Nora")
    shanghai = make_account(make_cardholder(timezone="Asia/Shanghai"))
    new_york = make_account(make_cardholder(timezone="America/New_York"), currency="USD",
                            profile="us")
    hold(shanghai, shan, at(date(2026, 12, 1)))
    hold(new_york, nora, at(date(2026, 12, 1)))
    promise(shanghai, shan, 10_000, date(2026, 12, 2), DUE)
    promise(new_york, nora, 10_000, date(2026, 12, 2), DUE)
    promise(shanghai, shan, 3_000, date(2026, 12, 2), DUE)
    pay(shanghai, 3_000, date(2026, 12, 3))  # keeps the small promise, not the large one
    return shan, nora


def judged(now):
    rows, team = collector_report(DEC, now)
    by_name = {r.name: (r.promises_kept, r.promises_broken, r.promises_pending) for r in rows}
    return by_name, (team.promises_kept, team.promises_broken, team.promises_pending)


@pytest.mark.parametrize("now, shanghai, new_york", [
    # 4 Dec 12:00 UTC: due today everywhere, so pending everywhere
    (utc(4, 12), "pending", "pending"),
    # 4 Dec 23:30 UTC: already 5 Dec 07:30 in Shanghai (broken), 18:30 on the 4th in New York
    (utc(4, 23, 30), "broken", "pending"),
    # 5 Dec 00:30 UTC: the UTC date is the 5th, but New York is still on the 4th (19:30)
    (utc(5, 0, 30), "broken", "pending"),
    # 5 Dec 05:30 UTC: past midnight in New York too
    (utc(5, 5, 30), "broken", "broken"),
])
def test_a_promise_due_today_is_judged_on_the_cardholders_own_date(promises, now, shanghai,
                                                                   new_york):
    by_name, team = judged(now)
    expect = {"pending": (0, 1), "broken": (1, 0)}  # (broken, pending)
    assert by_name["Shan"] == (1, *expect[shanghai])  # plus the one already kept
    assert by_name["Nora"] == (0, *expect[new_york])
    assert team == (1, expect[shanghai][0] + expect[new_york][0],
                    expect[shanghai][1] + expect[new_york][1])


def test_the_report_page_judges_promises_at_the_moment_it_is_read(promises, client, login_as,
                                                                  make_staff, clock):
    clock.move_to(utc(5, 0, 30))
    login_as(client, make_staff("collections_manager"))
    response = client.get("/staff/collections/reports?date_from=2026-12-01&date_to=2026-12-31"
                          "&format=csv")
    rows = {line.split(",")[0]: line.split(",") for line in
            response.get_data(as_text=True).splitlines()}
    columns = rows["collector"]
    broken = columns.index("promises_broken")
    assert rows["Shan"][broken] == "1" and rows["Nora"][broken] == "0"


def test_the_report_period_defaults_to_the_staff_month_so_far(promises, client, login_as,
                                                               make_staff, clock):
    clock.move_to(utc(31, 23, 30))
    login_as(client, make_staff("collections_manager"))
    response = client.get("/staff/collections/reports?format=csv")
    assert 'filename="collections-2026-12-01-2026-12-31.csv"' in response.headers[
        "Content-Disposition"]


def test_staff_today_is_the_utc_date_of_the_moment():
    assert staff_today(utc(4, 23, 30)) == date(2026, 12, 4)
    # the same moment written in Shanghai time (07:30 on the 5th) is still the 4th for staff
    assert staff_today(utc(4, 23, 30).astimezone(ZoneInfo("Asia/Shanghai"))) == date(2026, 12, 4)
    with pytest.raises(ValueError):
        staff_today(datetime(2026, 12, 5, 7, 30))  # naive: its day is ambiguous
