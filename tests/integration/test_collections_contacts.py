"""Contact log and promises to pay: who may log, what is refused, and when a promise is kept,
broken or not yet due (computed from the ledger, never stored)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.collections import services
from portal.collections.models import (ContactChannel, ContactDirection, ContactLog,
                                       ContactOutcome, PromiseToPay, RecordImmutable)
from portal.extensions import db
from portal.timeutil import utcnow
from tests.clock import TODAY
from tests.helpers import post_form
from tests.integration.collections_helpers import pay, refund



@pytest.fixture()
def desk(make_account, make_staff):
    """An overdue account held by `mine`; `other` is another collector."""
    account = make_account(oldest_unpaid_due_date=TODAY - timedelta(days=40))
    manager = make_staff("collections_manager")
    mine, other = make_staff("collector", name="Li Na"), make_staff("collector")
    services.assign([account.id], mine.id, manager)
    db.session.commit()
    return account, mine, other, manager


def _log(account, staff, *, when=None, promise=None, outcome=ContactOutcome.REACHED):
    contact = services.log_contact(
        account, staff, channel=ContactChannel.PHONE, direction=ContactDirection.OUTBOUND,
        outcome=outcome, note="Spoke about the overdue amount.",
        occurred_at=when or utcnow() - timedelta(hours=1), promise=promise)
    db.session.commit()
    return contact


def test_collector_logs_a_contact_with_a_promise_on_their_account(client, login_as, desk):
    account, mine, _, _ = desk
    login_as(client, mine)
    path = f"/staff/collections/accounts/{account.id}"
    when = utcnow() - timedelta(days=1)
    response = post_form(client, path + "/contacts", {
        "channel": "phone", "direction": "outbound", "outcome": "promised_to_pay",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"), "note": "Will pay on Friday.",
        "promise_amount": "1500.00", "promise_date": (TODAY + timedelta(days=3)).isoformat()},
        form_page=path)
    assert response.status_code == 302
    contact = db.session.scalar(select(ContactLog))
    promise = db.session.scalar(select(PromiseToPay))
    # typed in the staff pages' zone (UTC), stored in UTC
    assert abs(contact.occurred_at.replace(tzinfo=timezone.utc) - when) < timedelta(minutes=1)
    assert (promise.amount, promise.currency, promise.staff_id) == (150_000, "CNY", mine.id)
    # the promise is made on the cardholder's day (Asia/Shanghai, UTC+8)
    assert promise.made_on == when.astimezone(timezone(timedelta(hours=8))).date()
    page = client.get(path).get_data(as_text=True)
    assert "Will pay on Friday." in page and "Not yet due" in page and "Li Na" in page
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "collections.contact_logged"))
    assert event.after["promise"]["amount"] == 150_000 and event.actor_id == str(mine.id)


def test_a_contact_in_the_future_is_refused(client, login_as, desk):
    account, mine, _, _ = desk
    with pytest.raises(services.CollectionsError) as exc:
        _log(account, mine, when=utcnow() + timedelta(minutes=5))
    assert exc.value.code == "future"
    db.session.rollback()
    login_as(client, mine)
    path = f"/staff/collections/accounts/{account.id}"
    later = utcnow() + timedelta(days=2)
    response = post_form(client, path + "/contacts", {
        "channel": "email", "direction": "inbound", "outcome": "reached",
        "occurred_at": later.strftime("%Y-%m-%dT%H:%M")}, form_page=path)
    assert response.status_code == 422
    assert "The contact cannot be in the future." in response.get_data(as_text=True)
    assert db.session.scalar(select(ContactLog.id)) is None


def test_promise_needs_amount_date_and_the_promised_outcome(client, login_as, desk):
    account, mine, _, _ = desk
    login_as(client, mine)
    path = f"/staff/collections/accounts/{account.id}"
    when = utcnow() - timedelta(hours=2)
    response = post_form(client, path + "/contacts", {
        "channel": "phone", "direction": "outbound", "outcome": "promised_to_pay",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M")}, form_page=path)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the amount the cardholder promised to pay." in page
    assert "Enter the date the cardholder promised to pay by." in page
    response = post_form(client, path + "/contacts", {
        "channel": "phone", "direction": "outbound", "outcome": "reached",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"), "promise_amount": "10.001",
        "promise_date": TODAY.isoformat()}, form_page=path)
    page = response.get_data(as_text=True)
    assert "no more decimal places than the currency has" in page
    assert "A promise to pay needs the outcome" in page
    with pytest.raises(services.CollectionsError) as exc:
        _log(account, mine, promise=services.Promise(100, TODAY - timedelta(days=5)),
             outcome=ContactOutcome.PROMISED)
    assert exc.value.code == "promise_before_contact"
    db.session.rollback()
    assert db.session.scalar(select(ContactLog.id)) is None


def test_collector_cannot_log_on_another_collectors_account(client, login_as, desk):
    account, _, other, manager = desk
    with pytest.raises(services.CollectionsError):
        _log(account, other)
    db.session.rollback()
    login_as(client, other)
    path = f"/staff/collections/accounts/{account.id}"
    assert client.get(path).status_code == 404
    token_page = "/staff/collections/my-accounts"
    response = post_form(client, path + "/contacts", {
        "channel": "phone", "direction": "outbound", "outcome": "reached",
        "occurred_at": "2026-01-01T10:00"}, form_page=token_page)
    assert response.status_code == 404
    assert db.session.scalar(select(ContactLog.id)) is None
    _log(account, manager)  # a manager may log on any account
    assert db.session.scalar(select(ContactLog.staff_id)) == manager.id


def test_contacts_and_promises_are_append_only(desk):
    account, mine, _, _ = desk
    contact = _log(account, mine, promise=services.Promise(5_000, TODAY + timedelta(days=2)),
                   outcome=ContactOutcome.PROMISED)
    contact.note = "changed"
    with pytest.raises(RecordImmutable):
        db.session.flush()
    db.session.rollback()
    promise = db.session.scalar(select(PromiseToPay))
    db.session.delete(promise)
    with pytest.raises(RecordImmutable):
        db.session.flush()
    db.session.rollback()


GRACE = 3  # promises.grace_days of both shipped profiles


def _status(account, contact, today):
    views = {v.contact.id: v for v in services.account_contacts(account, today)}
    return views[contact.id].status, views[contact.id].paid


def test_promise_kept_when_payments_by_its_date_cover_it(desk):
    account, mine, _, _ = desk
    made = utcnow() - timedelta(days=10)
    made_on = made.astimezone(timezone(timedelta(hours=8))).date()
    due = made_on + timedelta(days=5)
    contact = _log(account, mine, when=made, promise=services.Promise(30_000, due),
                   outcome=ContactOutcome.PROMISED)
    pay(account, 5_000, made_on - timedelta(days=1))  # before the promise: does not count
    pay(account, 10_000, made_on)
    last = due + timedelta(days=GRACE)  # the shipped policy's grace days
    assert _status(account, contact, due) == ("pending", 10_000)
    assert _status(account, contact, last) == ("pending", 10_000)
    assert _status(account, contact, last + timedelta(days=1)) == ("broken", 10_000)
    pay(account, 20_000, last)  # a payment within the grace days still counts
    assert _status(account, contact, last + timedelta(days=1)) == ("kept", 30_000)


def test_promise_paid_late_or_refunded_is_broken(desk):
    account, mine, _, _ = desk
    made = utcnow() - timedelta(days=10)
    made_on = made.astimezone(timezone(timedelta(hours=8))).date()
    due = made_on + timedelta(days=3)
    late = _log(account, mine, when=made, promise=services.Promise(10_000, due),
                outcome=ContactOutcome.PROMISED)
    last = due + timedelta(days=GRACE)
    pay(account, 10_000, last + timedelta(days=1))
    assert _status(account, late, last + timedelta(days=2))[0] == "broken"
    refunded = _log(account, mine, when=made + timedelta(minutes=1),
                    promise=services.Promise(10_000, due), outcome=ContactOutcome.PROMISED)
    entry = pay(account, 10_000, due)
    assert _status(account, refunded, due + timedelta(days=1))[0] == "kept"
    refund(entry, due)
    assert _status(account, refunded, due + timedelta(days=1)) == ("pending", 0)  # in grace
    assert _status(account, refunded, last + timedelta(days=1)) == ("broken", 0)


def test_my_accounts_shows_balance_plan_next_instalment_and_last_contact(client, login_as, desk,
                                                                         make_account):
    from tests.integration.collections_helpers import make_plan

    account, mine, other, manager = desk
    theirs = make_account(oldest_unpaid_due_date=TODAY - timedelta(days=9))
    services.assign([theirs.id], other.id, manager)
    db.session.commit()
    plan = make_plan(account, "active", started_on=TODAY - timedelta(days=3), total=100_000)
    _log(account, mine, when=datetime(2026, 11, 20, 2, tzinfo=timezone.utc))
    login_as(client, mine)
    page = client.get("/staff/collections/my-accounts").get_data(as_text=True)
    assert account.account_number in page and theirs.account_number not in page
    assert "¥500.00" in page  # overdue (minimum due 50,000 fen)
    assert ">40<" in page  # days late
    assert "Active" in page
    assert f"¥500.00 by {plan.instalments[0].due_date.strftime('%B')}" in page
    assert "November 20, 2026, 2:00\u202fAM Coordinated Universal Time" in page
    login_as(client, manager)
    team = client.get("/staff/collections/my-accounts").get_data(as_text=True)
    assert account.account_number in team and theirs.account_number in team and "Li Na" in team


def test_the_worklist_counts_as_broken_exactly_the_promises_judged_broken(desk):
    """The worklist's page statement counts the broken promises itself (a column beside each
    row): it must agree with the contact log's judgement of each promise, kept, short, paid
    late, refunded or still within its days."""
    from portal.collections import worklists

    account, mine, _, _ = desk
    made = utcnow() - timedelta(days=10)
    made_on = made.astimezone(timezone(timedelta(hours=8))).date()
    due = made_on + timedelta(days=2)
    last = due + timedelta(days=GRACE)

    def promise(minutes, amount, on=due):
        return _log(account, mine, when=made + timedelta(minutes=minutes),
                    promise=services.Promise(amount, on), outcome=ContactOutcome.PROMISED)

    promise(0, 10_000)                      # covered by the payments below: kept
    promise(1, 60_000)                      # more than was paid: broken
    promise(2, 50_000, on=last + timedelta(days=9))  # not yet due on the days asked: pending
    pay(account, 4_000, made_on)
    pay(account, 3_000, last + timedelta(days=1))   # after the days: counts for none of them
    entry = pay(account, 8_000, due)
    refunded_day = last + timedelta(days=2)
    counts = []
    for today in (last, last + timedelta(days=1), refunded_day):
        if today == refunded_day:
            refund(entry, due)  # the 10,000 promise is no longer covered
        judged = [v.status for v in services.account_contacts(account, today) if v.promise]
        row, = [r for r in worklists.assigned_accounts(mine.id, today).rows
                if r.account.id == account.id]
        assert row.broken_promises == judged.count("broken"), (today, judged)
        counts.append(row.broken_promises)
    # on the last day of grace none is broken yet; then the short one; then the refunded one
    assert counts == [0, 1, 2] and judged == ["pending", "broken", "broken"]
