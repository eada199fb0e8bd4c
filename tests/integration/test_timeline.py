"""The consequence timeline: what happened, what happens next and when, and what stops it."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.consequences import pauses
from portal.consequences.services import notice_for, notices_for, timeline_for
from portal.consequences.types import TimelineItem
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.integration.account_pages_helpers import freeze_today

DUE = date(2026, 11, 1)


def _account(make_account, **kw):
    values = dict(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                  effective=DUE)
    values.update(kw)
    return make_account(**values)


def test_upcoming_consequences_are_dated_if_nothing_is_paid(make_account):
    account = _account(make_account)
    timeline = timeline_for(account, date(2026, 11, 28))  # 27 days late, nightly not yet run
    upcoming = [(i.kind, i.on, i.amount) for i in timeline.upcoming if i.kind != "stage"]
    assert upcoming[:2] == [("late_fee", date(2026, 11, 28), 2_500),
                            ("penalty_interest", date(2026, 11, 28), None)]
    assert ("credit_report", date(2026, 12, 1), None) in upcoming
    assert ("charge_off", date(2027, 4, 30), None) in upcoming
    stage_60 = next(i for i in timeline.upcoming if i.kind == "stage" and i.days_late == 60)
    assert stage_60.on == date(2026, 12, 31)
    assert timeline.days_late == 27 and timeline.overdue == 50_000


def test_past_events_and_notices_after_nightly_and_pay_by_before_the_next(make_account):
    account = _account(make_account)
    run_nightly(date(2026, 12, 31))
    timeline = timeline_for(account, date(2026, 12, 31))
    past = {(i.kind, i.on) for i in timeline.past}
    assert ("card_block", date(2026, 12, 31)) in past and ("late_fee", date(2026, 11, 2)) in past
    notice_item = next(i for i in timeline.past if i.kind == "formal_notice")
    notice = notice_for(account, int(notice_item.reference))
    assert notice.amount == 52_500
    assert [i.kind for i in timeline.upcoming if i.kind != "stage"] == ["legal_referral",
                                                                       "charge_off"]
    assert timeline.upcoming[0].on == date(2027, 1, 30)  # 90 days: stage m3
    referral = next(i for i in timeline.upcoming if i.kind == "legal_referral")
    assert referral.on == date(2027, 3, 1)  # 120 days late
    assert timeline.pay_by == date(2027, 2, 28)  # the day before
    assert next(i for i in timeline.past if i.kind == "late_fee").explanation["zh_Hans"]


def test_nothing_upcoming_when_nothing_is_overdue(make_account):
    account = _account(make_account, minimum_due=0)
    timeline = timeline_for(account, date(2026, 11, 28))
    assert timeline.upcoming == [] and timeline.pay_by is None and timeline.days_late == 0


def test_pause_is_reported(make_account, monkeypatch):
    account = _account(make_account)
    monkeypatch.setattr(pauses, "_providers", [lambda a, d: pauses.Pause("plan", since=DUE)])
    assert timeline_for(account, date(2026, 11, 28)).pause.reason == "plan"


def test_timeline_query_count_does_not_grow_with_history(make_account, app):
    account = _account(make_account)
    run_nightly(date(2026, 11, 10))
    short = _count_queries(app, lambda: timeline_for(account, date(2026, 11, 10)))
    run_nightly(date(2027, 3, 31))
    long = _count_queries(app, lambda: timeline_for(account, date(2027, 3, 31)))
    assert long <= short + 1  # at most one more policy version looked up


def test_another_accounts_notice_is_not_found(make_account):
    mine, theirs = _account(make_account), _account(make_account)
    run_nightly(date(2026, 12, 31))
    their_notice = notices_for(theirs)[0]
    assert notice_for(mine, their_notice.id) is None
    assert notice_for(theirs, their_notice.id) is their_notice


def _count_queries(app, fn):
    seen = []

    def count(*args, **kwargs):
        seen.append(1)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


# --- what the cardholder reads about penalty interest and about earlier steps -----------------

PENALTY_WRONG = ("charged on the overdue amount", "对逾期金额按罚息利率")


def _sentence(app, macro, item, locale="en"):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        return " ".join(render_template_string(
            '{% from "accounts/_sentences.html" import ' + macro + ' %}{{ ' + macro + '(item) }}',
            item=item).split())


@pytest.mark.parametrize("locale", ("en", "zh_Hans"))
@pytest.mark.parametrize("macro, item, english", [
    ("past_sentence", TimelineItem("penalty_interest", DUE, True, 1),
     "Since November 1, 2026 interest at the penalty rate has been charged every day on the "
     "whole unpaid amount spent and borrowed."),
    ("upcoming_sentence", TimelineItem("penalty_interest", DUE, False, 60, currency="USD"),
     "From November 1, 2026 interest at the penalty rate will be charged every day on the "
     "whole unpaid amount spent and borrowed."),
    ("upcoming_sentence", TimelineItem("penalty_interest", DUE, False, 60, currency="USD",
                                       annual_rate=Decimal("29.99"), daily_amount=411),
     "From November 1, 2026 interest of 29.99% a year will be charged on the whole unpaid "
     "amount spent and borrowed, about $4.11 a day."),
])
def test_penalty_interest_is_said_to_be_charged_on_the_whole_unpaid_principal(
        app, macro, item, english, locale):
    # The engine charges it daily on the whole principal (AccountDay.principal), as the
    # policies' own explanations say: never "on the overdue amount".
    text = _sentence(app, macro, item, locale)
    assert not any(wrong in text for wrong in PENALTY_WRONG)
    if locale == "en":
        assert text == english
    else:  # the Chinese catalogue states the same fact (English until the catalogue has it)
        assert "全部未还的消费及借款本金" in text or "whole unpaid amount spent and borrowed" in text


def test_timeline_page_states_the_penalty_interest_the_nightly_charged(
        client, login_as, make_account, monkeypatch, clock):
    freeze_today(clock)  # 28 November 2026 in Shanghai
    account = _account(make_account)
    run_nightly(date(2026, 11, 28))
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/timeline").get_data(as_text=True)
    assert ("Since November 2, 2026 interest at the penalty rate has been charged every day on "
            "the whole unpaid amount spent and borrowed.") in page
    # and it is the principal's figure the nightly used: 5,000.00 x 18.25% / 365 = 2.50 a day
    interest = _db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.INTEREST)).all()
    assert set(interest) == {250}


def test_timeline_says_earlier_steps_of_an_account_fed_in_late_are_not_shown(
        client, login_as, make_account, monkeypatch, clock):
    freeze_today(clock)
    late = _account(make_account, oldest_unpaid_due_date=date(2026, 10, 1))  # 31 days late
    on_time = _account(make_account, cardholder=late.cardholder)  # due on the statement day
    run_nightly(date(2026, 11, 28))
    login_as(client, late.cardholder)
    page = client.get(f"/accounts/{late.id}/timeline").get_data(as_text=True)
    assert "Steps the card issuer took before November 1, 2026 are not shown here." in page
    page = client.get(f"/accounts/{on_time.id}/timeline").get_data(as_text=True)
    assert "Steps the card issuer took before" not in page
