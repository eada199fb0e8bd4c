"""Issue 13 item 4: reminders before a plan payment falls due, after one is missed, and before
a promised payment, end to end through `flask jobs reminders` and the outbox files, under
the contact rules (quiet hours, opt-outs, holds, caps)."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.collections.models import ContactChannel, ContactDirection, ContactOutcome, SentReminder
from portal.collections.services import Promise, log_contact
from portal.extensions import db as _db
from portal.outbox.models import MessageKind, OutboxMessage
from portal.outbox.services import deliver_due, queue_email
from portal.payments.models import AutopayMandate
from portal.plans.jobs import run_plan_monitoring
from portal.policy.services import policy_for
from tests.dispute_helpers import csrf, raise_dispute
from tests.integration.plan_helpers import TODAY, agree
from tests.integration.test_policy_editor import URL, _form, previewed

UTC = timezone.utc
FIRST_DUE = TODAY + timedelta(days=7)  # 5 December 2026: the plan's first payment


def noon(day: date) -> datetime:  # 12:00 in Shanghai
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


@pytest.fixture()
def planned(make_cardholder, make_account):
    def _make(**holder):
        account = make_account(make_cardholder(**holder), principal=500_000)
        plan = agree(account)
        _db.session.commit()
        return account, plan
    return _make


def _reminders(outbox):
    """The reminder files (the plan's own confirmation email is left out)."""
    return [m for m in outbox() if m["subject"] != "Your repayment plan is agreed"
            and m["subject"] != "您的还款计划已达成"]


def _run(runner, moment: datetime) -> str:
    result = runner.invoke(args=["jobs", "reminders", "--now", moment.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_payment_due_soon_is_reminded_once_with_a_link_and_an_opt_out(
        clock, runner, planned, outbox):
    account, plan = planned()
    clock.move_to(noon(FIRST_DUE - timedelta(days=4)))
    assert "payments due soon 0" in _run(runner, clock.now())  # 4 days before: too early
    clock.move_to(noon(FIRST_DUE - timedelta(days=3)))  # the profile says 3 days
    assert "payments due soon 1" in _run(runner, clock.now())
    assert "payments due soon 0" in _run(runner, clock.now() + timedelta(hours=1))
    [mail] = _reminders(outbox)
    assert mail["subject"] == "A payment under your plan is due soon"
    first = plan.instalments[0]
    assert "is due on December 5, 2026" in mail["body"]
    assert "CN¥" in mail["body"] and re.search(r"/l/[\w-]+", mail["body"])
    assert f"/accounts/{account.id}/" not in mail["body"]  # a one-tap link, not the page
    assert "To stop emails like this one, open this link:" in mail["body"]
    assert _db.session.scalar(select(func.count(SentReminder.id))) == 1
    assert first.still_due > 0


def test_with_autopay_on_the_due_soon_reminder_says_the_card_will_be_charged(
        clock, runner, planned, outbox):
    account, _plan = planned()
    _db.session.add(AutopayMandate(account_id=account.id, provider="sandbox", card_last4="4242",
                                   active=True))
    _db.session.commit()
    clock.move_to(noon(FIRST_DUE - timedelta(days=1)))
    _run(runner, clock.now())
    [mail] = _reminders(outbox)
    assert ("We will take it from your card ending in 4242 on that day, as you asked."
            in mail["body"])
    assert "/pay?choice=instalment" not in mail["body"] and "/l/" not in mail["body"]


def test_the_pay_link_preselects_the_instalment(client, login_as, planned):
    account, _plan = planned()
    login_as(client, account.cardholder)
    html = client.get(f"/accounts/{account.id}/pay?choice=instalment").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="instalment"|<input[^>]*value="instalment"'
                     r'[^>]*checked', html)


def test_a_reminder_found_at_night_waits_for_the_cardholders_morning(clock, runner, planned,
                                                                      outbox):
    planned()
    night = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 02:30 on 2 December in Shanghai
    clock.move_to(night)
    assert "payments due soon 1" in _run(runner, night)
    assert _reminders(outbox) == []
    deliver_due(datetime(2026, 12, 2, 0, 0, tzinfo=UTC))  # 08:00 in Shanghai
    assert [m["subject"] for m in _reminders(outbox)] == ["A payment under your plan is due soon"]


def test_a_missed_payment_is_reminded_in_chinese_with_the_last_day_and_a_pay_link(
        clock, runner, planned, outbox):
    account, plan = planned(locale="zh_Hans")
    day = FIRST_DUE + timedelta(days=1)
    clock.move_to(noon(day))
    run_plan_monitoring(day)
    output = _run(runner, clock.now())
    assert "payments missed 1" in output
    [mail] = _reminders(outbox)
    assert mail["subject"] == "您的还款计划有一笔还款未按时支付"
    assert "2026年12月15日" in mail["body"]  # due 5 December plus 10 grace days
    assert re.search(r"/l/[\w-]+", mail["body"])  # the one-tap link to pay (portal/links)
    assert "/contact/opt-out/" in mail["body"] and "To stop emails" not in mail["body"]
    assert "payments missed 0" in _run(runner, clock.now())


def test_after_opting_out_by_the_link_the_next_reminder_is_not_sent_nor_tried_again(
        clock, runner, planned, outbox, client):
    account, _plan = planned()
    clock.move_to(noon(FIRST_DUE - timedelta(days=1)))
    _run(runner, clock.now())
    path = re.search(r"(/contact/opt-out/[\w.-]+)", _reminders(outbox)[0]["body"]).group(1)
    done = client.post(path, data={"csrf_token": csrf(client, path)})
    assert done.status_code == 200
    day = FIRST_DUE + timedelta(days=1)
    clock.move_to(noon(day))
    run_plan_monitoring(day)
    assert "payments missed 1" in _run(runner, clock.now())
    assert len(_reminders(outbox)) == 1  # only the first reminder
    missed = _db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.purpose == "instalment_missed"))
    assert missed.suppressed_reason == "opted_out"
    assert "payments missed 0" in _run(runner, clock.now() + timedelta(hours=2))


def test_a_dispute_contesting_the_debt_holds_the_reminder(clock, runner, planned, outbox):
    account, _plan = planned()
    raise_dispute(account, category="already_paid", amount=50_000)
    clock.move_to(noon(FIRST_DUE - timedelta(days=2)))
    _run(runner, clock.now())
    held = _db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.purpose == "instalment_due_soon"))
    assert held.suppressed_reason == "hold"
    assert all(not m["subject"].startswith("A payment") for m in outbox())


def test_a_reminder_over_the_weekly_cap_is_suppressed(clock, runner, planned, outbox):
    account, _plan = planned()
    clock.move_to(noon(FIRST_DUE - timedelta(days=2)))
    holder = account.cardholder
    for n in range(7):
        queue_email(holder.email, f"Letter {n}", "A letter is ready.", purpose="notice_available",
                    cardholder_id=holder.id, kind=MessageKind.COLLECTION, account_id=account.id)
    _db.session.commit()
    _run(runner, clock.now())
    capped = _db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.purpose == "instalment_due_soon"))
    assert capped.suppressed_reason == "cap"


def test_a_promise_to_pay_is_reminded_before_its_date_unless_kept(
        clock, runner, make_account, make_cardholder, make_staff, outbox):
    account = make_account(make_cardholder(), principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    other = make_account(make_cardholder(), principal=500_000)
    manager = make_staff("collections_manager")
    clock.move_to(noon(TODAY))
    for acc in (account, other):
        log_contact(acc, manager, channel=ContactChannel.PHONE,
                    direction=ContactDirection.OUTBOUND, outcome=ContactOutcome.PROMISED,
                    note="", occurred_at=clock.now(),
                    promise=Promise(amount=30_000, promised_on=date(2026, 12, 4)))
    _db.session.commit()
    assert "promises due 0" in _run(runner, clock.now())  # six days ahead
    clock.move_to(noon(date(2026, 12, 2)))
    assert "promises due 2" in _run(runner, clock.now())
    assert "promises due 0" in _run(runner, clock.now())
    _db.session.expire_all()
    mails = [m for m in outbox() if m["subject"] == "Your promised payment is due soon"]
    assert len(mails) == 2
    assert "You told us you would pay CN¥300.00 by December 4, 2026." in mails[0]["body"]
    assert "/contact/opt-out/" in mails[0]["body"]


def test_risk_sets_the_days_before_in_the_profiles_contact_section(
        client, login_as, make_staff, clock, runner, planned, outbox):
    login_as(client, make_staff("risk"))
    data = _form(client)
    assert data["reminder_days"] == "3"  # the shipped profile's setting
    refused = client.post(f"{URL}cn/new", data={**data, "reminder_days": "99",
                                                "preview": "Preview the effect"})
    assert refused.status_code == 422 and "Enter a number of days from 0 to 30." in refused.text
    data["reminder_days"] = "5"
    published = client.post(f"{URL}cn/new", data=previewed(client, data))
    assert published.status_code == 302
    effective = date.fromisoformat(data["effective_from"])
    assert policy_for("cn", effective).section("contact")["reminders"]["due_soon_days"] == 5
    _account, plan = planned()
    due = plan.instalments[1].due_date  # 5 January 2027, after the new version starts
    clock.move_to(noon(due - timedelta(days=5)))
    assert "payments due soon 1" in _run(runner, clock.now())
