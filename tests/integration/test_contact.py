"""Contact rules in the outbox: quiet hours in the cardholder's zone, caps, opt-outs (link,
page, STOP) and collection holds; transactional messages still go at once."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.contact import services as contact
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.outbox.models import MessageKind, OutboxMessage
from portal.outbox.services import deliver_due, queue_email, queue_sms
from portal.policy.services import policy_for
from tests.dispute_helpers import csrf, raise_dispute

UTC = timezone.utc
NIGHT = "2026-12-30T18:30:00+00:00"  # 02:30 on 31 Dec in Shanghai
NOON = "2026-12-31T04:00:00+00:00"  # 12:00 in Shanghai
EIGHT = datetime(2026, 12, 31, 0, 0, tzinfo=UTC)  # 08:00 on 31 Dec in Shanghai


@pytest.fixture()
def at(clock):
    """Move the clock: at("2026-...+00:00")."""
    return clock.move_to


@pytest.fixture()
def late_account(make_account):
    return make_account(principal=500_000, minimum_due=50_000,
                        oldest_unpaid_due_date=date(2026, 11, 1), effective=date(2026, 11, 1))


def _messages(**where):
    _db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return _db.session.scalars(query).all()


def _reminder(account, channel="email"):
    holder = account.cardholder
    if channel == "email":
        message = queue_email(holder.email, "A letter about your card account", "A letter is ready.",
                              purpose="notice_available", cardholder_id=holder.id,
                              kind=MessageKind.COLLECTION, account_id=account.id)
    else:
        message = queue_sms(holder.phone, "A letter is ready.", purpose="notice_available",
                            cardholder_id=holder.id, kind=MessageKind.COLLECTION,
                            account_id=account.id)
    _db.session.commit()
    return message


def test_shipped_profiles_carry_contact_rules_citing_their_source(db):
    us = policy_for("us", date(2026, 11, 28)).section("contact")
    cn = policy_for("cn", date(2026, 11, 28)).section("contact")
    assert us["hours"] == {"start": "08:00", "end": "21:00"} and us["verified"] is True
    assert "1006.6(b)(1)(i)" in us["rule"] and "1006.14" in us["caps_rule"]
    assert "1006.6(e)" in us["opt_out_rule"]
    assert cn["verified"] is False and cn["rule"].startswith("Unverified")
    assert cn["caps"]["sms"] == {"max": 7, "period_days": 7}


def test_nightly_letter_message_waits_for_eight_local_and_goes_when_due(
        at, late_account, outbox, runner):
    at(NIGHT)
    run_nightly(date(2026, 12, 31))
    assert outbox() == []  # nothing reaches a phone at 02:30
    queued = _messages(purpose="notice_available")
    assert {m.channel.value for m in queued} == {"email", "sms"}
    assert all(m.kind == MessageKind.COLLECTION and m.account_id == late_account.id
               for m in queued)
    assert all(m.not_before.replace(tzinfo=UTC) == EIGHT for m in queued)

    early = runner.invoke(args=["outbox", "deliver", "--now", "2026-12-30T23:59:00+00:00"])
    assert "delivered 0 message(s)" in early.output and outbox() == []
    due = runner.invoke(args=["outbox", "deliver", "--now", EIGHT.isoformat()])
    assert "delivered 2 message(s)" in due.output
    sent = {m["channel"]: m for m in outbox()}
    assert "/contact/opt-out/" in sent["email"]["body"]
    assert sent["sms"]["body"].endswith("Reply STOP to stop these texts.")


def test_a_late_delivery_run_never_sends_in_quiet_hours(at, late_account, outbox):
    at(NIGHT)
    message = _reminder(late_account)
    assert deliver_due(datetime(2026, 12, 31, 13, 30, tzinfo=UTC)) == 0  # 21:30 local
    _db.session.refresh(message)
    assert message.not_before.replace(tzinfo=UTC) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert outbox() == []


def test_transactional_messages_go_at_once_even_at_night(at, late_account, outbox):
    at(NIGHT)
    holder = late_account.cardholder
    queue_sms(holder.phone, "Your code is 123456.", purpose="login", cardholder_id=holder.id)
    _db.session.commit()
    assert [m["body"] for m in outbox()] == ["Your code is 123456."]  # no opt-out line either


def test_daytime_collection_messages_go_right_after_commit(at, late_account, outbox):
    at(NOON)
    _reminder(late_account, "sms")
    assert [m["channel"] for m in outbox()] == ["sms"]


def test_collection_messages_over_the_weekly_cap_are_suppressed(at, late_account, outbox):
    at(NOON)
    messages = [_reminder(late_account) for _ in range(8)]
    assert len(outbox()) == 7
    last = _db.session.get(OutboxMessage, messages[-1].id)
    assert (last.suppressed_reason, last.delivered_at) == ("cap", None)
    assert _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.suppressed"))
    _reminder(late_account, "sms")  # the cap is per channel
    holder = late_account.cardholder
    queue_email(holder.email, "Receipt", "Thank you.", purpose="payment", cardholder_id=holder.id)
    _db.session.commit()
    assert len(outbox()) == 9


def test_a_dispute_hold_suppresses_reminders_but_not_receipts(at, late_account, outbox):
    at(NIGHT)
    deferred = _reminder(late_account)  # queued at night for 08:00
    raise_dispute(late_account, category="already_paid", amount=50_000)  # before 08:00
    at(NOON)
    held = _reminder(late_account)
    assert held.suppressed_reason == "hold"
    deliver_due()
    assert _db.session.get(OutboxMessage, deferred.id).suppressed_reason == "hold"
    subjects = [m["subject"] for m in outbox()]
    assert subjects and all(s.startswith("Your dispute") for s in subjects)  # the ack still went


def _opt_out_path(outbox):
    body = next(m["body"] for m in outbox() if m["channel"] == "email")
    return re.search(r"(/contact/opt-out/[\w.-]+)", body).group(1)


def test_opt_out_by_link_asks_then_records_and_stops_deferred_messages(
        at, late_account, outbox, client):
    at(NOON)
    _reminder(late_account)
    path = _opt_out_path(outbox)
    at(NIGHT)
    deferred = _reminder(late_account)
    page = client.get(path)
    assert page.status_code == 200 and "Stop emails about your card account?" in page.text
    assert contact.preferences(late_account.cardholder)["email"] is True  # GET changes nothing
    assert client.post(path, data={}).status_code == 400  # no CSRF token
    done = client.post(path, data={"csrf_token": csrf(client, path)})
    assert done.status_code == 200 and "Your choice is saved" in done.text
    assert contact.preferences(late_account.cardholder) == {"email": False, "sms": True}
    deliver_due(EIGHT)
    assert _db.session.get(OutboxMessage, deferred.id).suppressed_reason == "opted_out"
    audit = _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "contact.preference_changed"))
    assert audit.after == {"channel": "email", "on": False, "source": "link"}


def test_a_forged_opt_out_link_is_not_found(client, late_account):
    assert client.get("/contact/opt-out/not-a-token").status_code == 404


def test_preferences_page_turns_texts_off_and_back_on(
        at, client, login_as, make_account, outbox):
    at(NOON)
    account = make_account()
    holder = account.cardholder
    login_as(client, holder)
    page = client.get("/contact/preferences")
    assert page.status_code == 200 and page.text.count("checked") == 2
    assert "between 8:00" in page.text or "between 08:00" in page.text
    token = csrf(client, "/contact/preferences")
    response = client.post("/contact/preferences", data={"csrf_token": token, "email_on": "y"})
    assert response.status_code == 302
    assert contact.preferences(holder) == {"email": True, "sms": False}
    _reminder(account, "sms")
    _reminder(account, "email")
    assert [m["channel"] for m in outbox()] == ["email"]
    client.post("/contact/preferences", data={"csrf_token": token, "email_on": "y",
                                              "sms_on": "y"})
    assert contact.preferences(holder) == {"email": True, "sms": True}


def test_preferences_page_speaks_chinese(client, login_as, make_cardholder):
    holder = make_cardholder(locale="zh_Hans")
    login_as(client, holder)
    client.set_cookie("locale", "zh_Hans")
    page = client.get("/contact/preferences")
    assert page.status_code == 200 and 'lang="zh' in page.text


def test_a_stop_text_recorded_by_the_operator_turns_texts_off(runner, make_cardholder):
    holder = make_cardholder()
    result = runner.invoke(args=["contact", "sms-stop", holder.phone])
    assert "texts stopped for 1 cardholder(s)" in result.output
    _db.session.expire_all()
    assert contact.preferences(holder)["sms"] is False
    runner.invoke(args=["contact", "sms-start", holder.phone])
    _db.session.expire_all()
    assert contact.preferences(holder)["sms"] is True
