"""Issue 16's loose ends: a change to an agreed plan shows on the account timeline in both
languages, the missed-payment reminder asks for everything missed and due (and never for a date
a delay moved), and the cardholder's plan page marks payments made early."""
import re
from datetime import date, datetime, timezone

from sqlalchemy import select

from portal.domain.money import format_money
from portal.experiments.services import create
from portal.extensions import db as _db
from portal.links.models import OneTapLink
from portal.outbox.models import OutboxMessage
from portal.outbox.services import deliver_due
from portal.plans import decisions
from portal.plans.jobs import run_plan_monitoring
from tests.clock import TODAY
from tests.integration.payment_helpers import account  # noqa: F401 (fixture)
from tests.integration.plan_helpers import agree, spec
from tests.integration.plan_pay_helpers import planned, posted  # noqa: F401 (fixture)
from tests.integration.test_experiments import _one_in_each_arm, offers_defn
from tests.integration.test_plan_servicing import _confirm, kept  # noqa: F401 (fixture)
from tests.integration.test_reminders import _run, noon


def _timeline(client, plan):
    return client.get(f"/accounts/{plan.account_id}/timeline").text


def test_plan_changes_show_on_the_account_timeline(client, login_as, kept):  # noqa: F811
    login_as(client, kept.account.cardholder)
    assert _confirm(client, kept, kind="delay", seq=1, new_date="2026-12-12").status_code == 302
    assert _confirm(client, kept, kind="skip", seq=3).status_code == 302
    assert _confirm(client, kept, kind="date_change", new_date="2026-12-15").status_code == 302
    page = _timeline(client, kept)
    assert "On November 28, 2026 payment 1 of your plan was delayed to December 12, 2026." in page
    assert ("On November 28, 2026 payment 3 of your plan was skipped and added at the end of "
            "the plan.") in page
    assert ("On November 28, 2026 the payments of your plan still to come were moved to start "
            "on December 15, 2026.") in page


def test_plan_changes_on_the_timeline_read_in_chinese(client, login_as, kept):  # noqa: F811
    kept.account.cardholder.locale = "zh_Hans"
    _db.session.commit()
    plan = kept
    login_as(client, kept.account.cardholder)
    assert _confirm(client, plan, kind="delay", seq=1, new_date="2026-12-12").status_code == 302
    assert _confirm(client, plan, kind="skip", seq=3).status_code == 302
    page = _timeline(client, plan)
    assert "2026年11月28日，您计划的第 1 期还款延期至2026年12月12日。" in page
    assert "2026年11月28日，您计划的第 3 期还款已跳过，并加到计划末尾。" in page
    assert "was delayed" not in page


def _missed_mails(outbox):
    return [m for m in outbox() if m["subject"] in ("A payment under your plan was missed",
                                                   "Plan payment missed",
                                                   "您的还款计划有一笔还款未按时支付")]


def _weekly(account, make_staff):
    """A weekly plan (a collector approves it: weekly is outside auto-approval), so two
    payments fall within one payment's grace days."""
    plan = agree(account, spec(frequency="weekly"))
    assert decisions.approve(plan, make_staff("collector"), TODAY)
    _db.session.commit()
    return plan


def _weekly_plan(make_cardholder, make_account, make_staff, **holder):
    account = make_account(make_cardholder(**holder), principal=500_000)
    return account, _weekly(account, make_staff)


def test_the_missed_reminder_asks_for_everything_missed_and_due(
        clock, runner, make_cardholder, make_account, make_staff, outbox):
    account, plan = _weekly_plan(make_cardholder, make_account, make_staff)
    first, second = sorted(plan.instalments, key=lambda i: i.seq)[:2]  # 5 and 12 December
    run_plan_monitoring(date(2026, 12, 6))
    clock.move_to(noon(date(2026, 12, 6)))
    _run(runner, clock.now())
    [alone] = _missed_mails(outbox)
    assert "You can pay this payment now:" in alone["body"]
    run_plan_monitoring(date(2026, 12, 13))
    clock.move_to(noon(date(2026, 12, 13)))
    assert "payments missed 1" in _run(runner, clock.now())  # the second one; the first is told
    [_first, mail] = _missed_mails(outbox)
    total = format_money(first.amount + second.amount, "CNY", "en")
    own = format_money(second.amount, "CNY", "en")
    assert (f"The payment of {own} under your repayment plan that was due on December 12, 2026 "
            f"has not reached us. With your other plan payments missed or due, {total} is due "
            f"now.") in " ".join(mail["body"].split())
    link = _db.session.scalars(select(OneTapLink).order_by(OneTapLink.id.desc())).first()
    assert link.amount == first.amount + second.amount  # the link pays the same total


def test_the_missed_reminder_in_chinese_states_the_total(
        clock, runner, make_cardholder, make_account, make_staff, outbox):
    account, plan = _weekly_plan(make_cardholder, make_account, make_staff,
                                 locale="zh_Hans")
    first, second = sorted(plan.instalments, key=lambda i: i.seq)[:2]
    run_plan_monitoring(date(2026, 12, 13))
    clock.move_to(noon(date(2026, 12, 13)))
    _run(runner, clock.now())
    bodies = [" ".join(m["body"].split()) for m in _missed_mails(outbox)]
    total = format_money(first.amount + second.amount, "CNY", "zh_Hans")
    assert len(bodies) == 2 and all(f"现应还款共{total}" in b for b in bodies)


def test_the_short_wording_of_the_missed_reminder_states_the_total(
        clock, runner, make_staff, make_account, outbox):
    risk = make_staff("risk")
    _experiment, _a, b = _one_in_each_arm(make_account, lambda: create(offers_defn(
        kind="reminder", name="Short reminder",
        settings={"a": {"template": "standard"}, "b": {"template": "short"}}), risk, TODAY))
    plan = _weekly(b, make_staff)
    first, second = sorted(plan.instalments, key=lambda i: i.seq)[:2]
    run_plan_monitoring(date(2026, 12, 13))
    clock.move_to(noon(date(2026, 12, 13)))
    _run(runner, clock.now())
    mails = [m for m in _missed_mails(outbox) if m["to"] == b.cardholder.email]
    total = format_money(first.amount + second.amount, "CNY", "en")
    assert [m["subject"] for m in mails] == ["Plan payment missed"] * 2  # one per payment
    bodies = sorted(m["body"] for m in mails)
    assert f"Pay {total} by December 15, 2026 to keep your plan: " in bodies[0]
    assert f"Pay {total} by December 22, 2026 to keep your plan: " in bodies[1]


def test_a_missed_reminder_not_yet_sent_is_withdrawn_when_a_delay_moves_the_payment(
        clock, runner, client, login_as, kept, outbox):  # noqa: F811
    run_plan_monitoring(date(2026, 12, 6))
    night = datetime(2026, 12, 6, 18, 30, tzinfo=timezone.utc)  # 02:30 on 7 December, Shanghai
    clock.move_to(night)
    assert "payments missed 1" in _run(runner, night)  # deferred to the morning
    login_as(client, kept.account.cardholder)
    assert _confirm(client, kept, kind="delay", seq=1, new_date="2026-12-19").status_code == 302
    deliver_due(datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc))
    assert _missed_mails(outbox) == []  # it would have asked for 5 December's payment
    withdrawn = _db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.purpose == "instalment_missed"))
    assert withdrawn.suppressed_reason == "plan_changed"
    link = _db.session.scalar(select(OneTapLink).where(OneTapLink.message_id == withdrawn.id))
    assert link.revoked_at is not None  # its one-tap link no longer works either
    clock.move_to(noon(date(2026, 12, 16)))
    assert "payments due soon 1" in _run(runner, clock.now())  # the new date is reminded
    [soon] = [m for m in outbox() if m["subject"] == "A payment under your plan is due soon"]
    assert "is due on December 19, 2026" in soon["body"]


def test_the_cardholders_plan_page_marks_payments_made_early(client, planned):  # noqa: F811
    account, plan = planned  # 4 x CN¥500.00: the first missed, the second due today
    posted(account, 150_000)  # the two due now, and CN¥500.00 ahead: the last one
    page = client.get(f"/accounts/{account.id}/plans/{plan.id}").text
    rows = re.findall(r"<tr><td>(\d)</td>.*?</tr>", page, re.S)
    assert rows == ["1", "2", "3", "4"]
    marked = [seq for seq, row in re.findall(r"<tr><td>(\d)</td>(.*?)</tr>", page, re.S)
              if "Paid early" in row]
    assert marked == ["4"]
    account.cardholder.locale = "zh_Hans"
    _db.session.commit()
    assert "提前还款" in client.get(f"/accounts/{account.id}/plans/{plan.id}").text
