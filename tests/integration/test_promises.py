"""Issue 16: a promise to pay made by the cardholder online, within the profile's "promises"
policy; one model with the promises collectors log: judged by the ledger, pausing escalation
until the promised date plus grace, reminded through the contact rules, shown together."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.collections.models import (ContactChannel, ContactDirection, ContactOutcome,
                                       PromiseSource, PromiseToPay)
from portal.collections.promises import account_promises, promise_pause
from portal.collections.services import Promise, assign, log_contact
from portal.consequences.pauses import escalation_pause
from portal.contact.models import ContactPreference
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.outbox.models import OutboxMessage
from tests.clock import TODAY
from tests.helpers import post_form
from tests.integration.collections_helpers import pay, refund
from tests.integration.plan_helpers import agree

UTC = timezone.utc
GRACE = 3  # promises.grace_days of both shipped profiles
MAX_AHEAD = 14  # promises.max_days_ahead


def noon(day: date) -> datetime:  # 12:00 in Shanghai
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


@pytest.fixture()
def late(make_cardholder, make_account):
    """A cardholder 20 days late with CN¥500.00 overdue and CN¥5,000.00 owed."""
    holder = make_cardholder(password="Correct-Horse-42")
    return make_account(holder, principal=500_000, minimum_due=50_000,
                        oldest_unpaid_due_date=TODAY - timedelta(days=20))


def _path(account):
    return f"/accounts/{account.id}/promise"


def _promise(client, account, amount="200.00", on=None):
    on = on if isinstance(on, str) else (on or TODAY + timedelta(days=5)).isoformat()
    return post_form(client, _path(account), {"amount": amount, "promised_on": on},
                     form_page="/home")


def _promises():
    _db.session.expire_all()
    return _db.session.scalars(select(PromiseToPay).order_by(PromiseToPay.id)).all()


def test_the_dashboard_offers_a_promise_and_the_page_states_the_limits(client, login_as, late):
    login_as(client, late.cardholder)
    assert f'href="{_path(late)}"' in client.get("/home").text
    page = client.get(_path(late))
    assert page.status_code == 200
    assert "From CN¥100.00 to CN¥5,000.00." in page.text  # the profile's minimum; all owed
    assert "From November 28, 2026 to December 12, 2026." in page.text
    assert "Payments made up to 3 days after the date you choose still count." in page.text
    assert f'max="{(TODAY + timedelta(days=MAX_AHEAD)).isoformat()}"' in page.text


def test_a_promise_within_policy_is_recorded_audited_and_confirmed(client, login_as, late):
    login_as(client, late.cardholder)
    done = _promise(client, late, "300.00", TODAY + timedelta(days=5))
    assert done.status_code == 302
    [promise] = _promises()
    assert (promise.made_by, promise.cardholder_id, promise.contact_id, promise.staff_id) == (
        PromiseSource.CARDHOLDER, late.cardholder.id, None, None)
    assert (promise.amount, promise.made_on, promise.promised_on, promise.last_day) == (
        30_000, TODAY, date(2026, 12, 3), date(2026, 12, 6))
    assert promise.ip_address == "127.0.0.1"
    event = _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "collections.promise_made"))
    assert event.after["amount"] == 30_000 and event.after["made_by"] == "cardholder"
    page = client.get(_path(late), follow_redirects=True).text
    assert ("Thank you. You promised to pay CN¥300.00 by December 3, 2026. While your promise "
            "is open, the next steps on this account are paused until December 6, 2026.") in page
    assert "You promised to pay CN¥300.00 by December 3, 2026." in page
    assert "By you, online" in page and ">Open<" in page
    assert 'name="amount"' not in page  # one open promise at a time


def test_a_chinese_reader_gets_the_page_and_messages_in_chinese(client, login_as,
                                                               make_cardholder, make_account):
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder, oldest_unpaid_due_date=TODAY - timedelta(days=20))
    login_as(client, holder)
    page = client.get(_path(account)).text
    assert "还款承诺" in page and "作出此承诺" in page
    refused = _promise(client, account, "1.00")
    assert refused.status_code == 422
    assert "您可承诺的最低金额为" in refused.text


@pytest.mark.parametrize(("amount", "on", "message"), [
    ("50.00", None, "The smallest amount you can promise is CN¥100.00."),
    ("6000.00", None, "You can promise at most CN¥5,000.00, what you owe in total."),
    ("200.00", TODAY - timedelta(days=1), "Choose today or a later date."),
    ("200.00", TODAY + timedelta(days=MAX_AHEAD + 1),
     "Choose a date no later than December 12, 2026."),
])
def test_a_promise_outside_the_policy_is_refused_with_the_limit(client, login_as, late, amount,
                                                                on, message):
    login_as(client, late.cardholder)
    refused = _promise(client, late, amount, on)
    assert refused.status_code == 422
    assert message in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert _promises() == []


@pytest.mark.parametrize(("amount", "on"), [
    ("abc", "2026-12-01"), ("1e5", "2026-12-01"), ("-200", "2026-12-01"), ("", "2026-12-01"),
    ("200.001", "2026-12-01"), ("9" * 400, "2026-12-01"), ("200\x00", "2026-12-01"),
    ("200", "2026-13-45"), ("200", "tomorrow"), ("200", ""), ("200", "9" * 300),
    ("<script>alert(1)</script>", "<script>"),
])
def test_garbage_is_refused_with_a_message_and_never_a_server_error(client, login_as, late,
                                                                    amount, on):
    login_as(client, late.cardholder)
    refused = _promise(client, late, amount, on)
    assert refused.status_code == 422
    assert "<script>alert" not in refused.text
    assert _promises() == []


def test_another_cardholders_account_is_not_found_and_nothing_is_stored(
        client, login_as, late, make_cardholder, make_account):
    intruder = make_cardholder(password="Correct-Horse-42")
    make_account(intruder, oldest_unpaid_due_date=TODAY - timedelta(days=20))
    login_as(client, intruder)
    assert client.get(_path(late)).status_code == 404
    assert _promise(client, late).status_code == 404
    assert client.post("/accounts/99999999999999/promise").status_code == 404
    assert _promises() == []


def test_with_a_plan_running_a_promise_is_refused_and_the_page_says_why(client, login_as, late):
    agree(late)
    _db.session.commit()
    login_as(client, late.cardholder)
    page = client.get(_path(late)).text
    assert "Your repayment plan is running, so there is no need for a promise to pay." in page
    assert 'name="amount"' not in page
    refused = _promise(client, late)
    assert refused.status_code == 422
    assert "You cannot make a promise to pay online now." in refused.text
    assert _promises() == []


def test_with_nothing_overdue_there_is_nothing_to_promise(client, login_as, make_cardholder,
                                                         make_account):
    holder = make_cardholder()
    account = make_account(holder)  # nothing past due
    login_as(client, holder)
    assert "Nothing on this account is overdue" in client.get(_path(account)).text
    assert _promise(client, account).status_code == 422
    assert _promises() == []


def test_a_second_open_promise_is_refused(client, login_as, late):
    login_as(client, late.cardholder)
    assert _promise(client, late).status_code == 302
    assert _promise(client, late, "150.00").status_code == 422
    assert len(_promises()) == 1


def _collector_promise(account, amount, when: datetime, promised_on: date, staff):
    return log_contact(account, staff, channel=ContactChannel.PHONE,
                       direction=ContactDirection.OUTBOUND, outcome=ContactOutcome.PROMISED,
                       note="", occurred_at=when,
                       promise=Promise(amount=amount, promised_on=promised_on),
                       now=when + timedelta(minutes=1))


def test_after_two_broken_promises_online_promises_wait_until_the_oldest_leaves_the_window(
        client, clock, login_as, late, make_staff):
    manager = make_staff("collections_manager")
    for days_ago in (40, 20):
        made = noon(TODAY - timedelta(days=days_ago))
        _collector_promise(late, 20_000, made, made.date() + timedelta(days=2), manager)
    _db.session.commit()
    login_as(client, late.cardholder)
    page = client.get(_path(late)).text
    # broken 40 - 2 - 3 = 35 days ago: counts for 90 days, so until 90 - 35 + 1 days from now
    until = TODAY + timedelta(days=90 - 35 + 1)
    assert ("Recent promises to pay on this account were not kept, so a new promise cannot be "
            f"made online until {until:%B} {until.day}, {until.year}.") in page
    assert _promise(client, late).status_code == 422
    clock.move_to(noon(until))
    login_as(client, late.cardholder)
    assert _promise(client, late, on=until + timedelta(days=3)).status_code == 302


def test_kept_or_broken_is_decided_by_payments_and_reversals_in_the_ledger(client, login_as,
                                                                           late):
    login_as(client, late.cardholder)
    _promise(client, late, "300.00", TODAY + timedelta(days=4))
    [promise] = _promises()
    last = promise.last_day
    assert last == TODAY + timedelta(days=4 + GRACE)
    pay(late, 10_000, TODAY - timedelta(days=1))  # before the promise: does not count
    entry = pay(late, 30_000, last)  # on its last day: counts
    [view] = account_promises(late, last + timedelta(days=1))
    assert (view.status, view.paid) == ("kept", 30_000)
    assert "Kept" in client.get(_path(late)).text
    refund(entry, last)  # a refund dated within the promise's days
    [view] = account_promises(late, last + timedelta(days=1))
    assert (view.status, view.paid) == ("broken", 0)


def _fees(account):
    return _db.session.scalars(select(LedgerEntry.effective_date).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.FEE,
        LedgerEntry.source_ref.like("nightly:%"))).all()


DUE = date(2026, 11, 1)


@pytest.fixture()
def just_late(make_cardholder, make_account):
    holder = make_cardholder(password="Correct-Horse-42")
    return make_account(holder, principal=500_000, minimum_due=50_000,
                        oldest_unpaid_due_date=DUE, effective=DUE)


@pytest.mark.parametrize("source", ["cardholder", "collector"])
def test_the_nightly_run_holds_escalation_while_the_promise_is_open_and_resumes_after_broken(
        client, clock, login_as, make_staff, just_late, source):
    made = noon(DUE + timedelta(days=1))  # the first day late
    clock.move_to(made)
    promised_on = DUE + timedelta(days=5)
    if source == "cardholder":
        login_as(client, just_late.cardholder)
        assert _promise(client, just_late, "200.00", promised_on).status_code == 302
    else:
        _collector_promise(just_late, 20_000, made, promised_on, make_staff("collections_manager"))
        _db.session.commit()
    last = promised_on + timedelta(days=GRACE)  # 9 November
    pause = escalation_pause(just_late, last)
    assert (pause.reason, pause.since, pause.until) == ("promise", made.date(), last)
    run_nightly(last)
    assert _fees(just_late) == []  # the late fee (1 day late) waits while the promise is open
    assert promise_pause(just_late, last + timedelta(days=1)) is None  # broken: no pause
    run_nightly(last + timedelta(days=2))
    assert len(_fees(just_late)) == 1  # escalation resumed


def test_a_kept_promise_pauses_no_more(just_late, client, clock, login_as):
    made = DUE + timedelta(days=1)
    clock.move_to(noon(made))
    login_as(client, just_late.cardholder)
    assert _promise(client, just_late, "200.00", made + timedelta(days=4)).status_code == 302
    pay(just_late, 20_000, made + timedelta(days=1))
    assert promise_pause(just_late, made) is not None
    assert promise_pause(just_late, made + timedelta(days=1)) is None


def test_the_account_page_says_escalation_waits_for_the_promise(client, login_as, late):
    login_as(client, late.cardholder)
    _promise(client, late, "300.00", TODAY + timedelta(days=5))
    home = client.get("/home").text
    assert ("Escalation is paused while your promise to pay is open, until December 6, 2026 "
            "at the latest.") in home
    assert "See your promise to pay" in home


def test_an_online_promise_is_reminded_through_the_contact_rules(client, clock, runner, login_as,
                                                                 late, outbox):
    login_as(client, late.cardholder)
    _promise(client, late, "300.00", TODAY + timedelta(days=6))
    clock.move_to(noon(TODAY + timedelta(days=3)))  # the profile's 3 days before
    done = runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert "promises due 1" in done.output
    [mail] = [m for m in outbox() if m["subject"] == "Your promised payment is due soon"]
    assert "You told us you would pay CN¥300.00 by December 4, 2026." in mail["body"]
    assert "/contact/opt-out/" in mail["body"]


def test_an_opted_out_cardholder_gets_no_promise_reminder(client, clock, runner, login_as, late,
                                                         outbox):
    for channel in ("email", "sms"):
        _db.session.add(ContactPreference(cardholder_id=late.cardholder.id, channel=channel,
                                          opted_out=True, source="test"))
    _db.session.commit()
    login_as(client, late.cardholder)
    _promise(client, late, "300.00", TODAY + timedelta(days=6))
    clock.move_to(noon(TODAY + timedelta(days=3)))
    runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert not [m for m in outbox() if m["subject"] == "Your promised payment is due soon"]
    reasons = _db.session.scalars(select(OutboxMessage.suppressed_reason).where(
        OutboxMessage.purpose == "promise_due")).all()
    assert reasons and set(reasons) == {"opted_out"}


def test_collectors_see_both_kinds_of_promise_together(client, clock, login_as, late,
                                                       make_staff):
    collector, manager = make_staff("collector"), make_staff("collections_manager")
    assign([late.id], collector.id, manager)
    made = noon(TODAY - timedelta(days=30))
    _collector_promise(late, 20_000, made, made.date() + timedelta(days=2), collector)
    _db.session.commit()
    login_as(client, late.cardholder)
    assert _promise(client, late, "300.00").status_code == 302
    login_as(client, collector)
    page = client.get(f"/staff/collections/accounts/{late.id}").text
    assert "Cardholder, online" in page and collector.name in page
    assert "CN¥300.00" in page and "CN¥200.00" in page
    login_as(client, late.cardholder)
    mine = client.get(_path(late)).text
    assert "With our collections team" in mine and "By you, online" in mine
    assert ">Broken<" in mine and ">Open<" in mine
    assert _db.session.scalar(select(func.count(PromiseToPay.id))) == 2


def test_the_database_refuses_a_promise_with_a_mixed_source(late, make_staff):
    from sqlalchemy.exc import IntegrityError

    _db.session.add(PromiseToPay(made_by=PromiseSource.CARDHOLDER, account_id=late.id,
                                 cardholder_id=late.cardholder.id,
                                 staff_id=make_staff("collector").id, amount=100,
                                 currency="CNY", made_on=TODAY, promised_on=TODAY))
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_publishing_refuses_a_promises_section_the_code_cannot_use(app):
    from portal.policy.rules import PolicyError, validate_document
    from portal.policy.services import shipped_document

    doc = shipped_document("us")
    assert validate_document(doc) == []
    doc["promises"]["grace_days"] = 45
    assert PolicyError("invalid", "promises.grace_days") in validate_document(doc)


def test_the_timeline_shows_the_steps_as_paused_while_the_promise_is_open(client, login_as,
                                                                          late):
    login_as(client, late.cardholder)
    _promise(client, late, "300.00", TODAY + timedelta(days=5))
    page = client.get(f"/accounts/{late.id}/timeline")
    assert page.status_code == 200
    assert "The steps below will not happen while escalation is paused." in page.text
    overview = client.get(f"/accounts/{late.id}").text
    assert "Escalation is paused while your promise to pay is open" in overview


def test_a_broken_promise_is_told_once_in_the_cardholders_language(client, clock, runner,
                                                                   login_as, make_cardholder,
                                                                   make_account, outbox):
    holder = make_cardholder(password="Correct-Horse-42", locale="zh_Hans")
    account = make_account(holder, oldest_unpaid_due_date=TODAY - timedelta(days=20))
    login_as(client, holder)
    assert _promise(client, account, "300.00", TODAY + timedelta(days=2)).status_code == 302
    last = TODAY + timedelta(days=2 + GRACE)
    pay(account, 10_000, TODAY)
    clock.move_to(noon(last))  # still within grace: nothing to tell
    done = runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert "promises broken 0" in done.output
    clock.move_to(noon(last + timedelta(days=1)))
    done = runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert "promises broken 1" in done.output
    again = runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert "promises broken 0" in again.output
    [mail] = [m for m in outbox() if m["subject"] == "我们尚未收到您承诺的还款"]
    assert "因此该承诺已结束" in mail["body"] and f"/accounts/{account.id}/promise" in mail["body"]
    assert "/contact/opt-out/" in mail["body"]


def test_a_promise_broken_long_ago_gets_no_notice(clock, runner, late, make_staff, outbox):
    made = noon(TODAY - timedelta(days=30))
    _collector_promise(late, 20_000, made, made.date() + timedelta(days=2),
                       make_staff("collections_manager"))
    _db.session.commit()
    done = runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert "promises broken 0" in done.output
