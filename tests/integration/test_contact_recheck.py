"""`recheck_due` decides a whole batch with a fixed number of queries, and decides exactly what
applying the rules one message at a time decides (opt-outs, holds, caps, quiet hours)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from portal.contact import services as contact
from portal.extensions import db as _db
from portal.outbox.models import Channel, MessageKind, OutboxMessage
from tests.dispute_helpers import raise_dispute

UTC = timezone.utc
NOW = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 23:00 (30 Dec) in New York
NY_EIGHT = datetime(2026, 12, 31, 13, 0, tzinfo=UTC)
UTC_EIGHT = datetime(2026, 12, 31, 8, 0, tzinfo=UTC)
C, S, T = MessageKind.COLLECTION, MessageKind.SERVICE, MessageKind.TRANSACTIONAL
EMAIL, SMS = Channel.EMAIL, Channel.SMS


@pytest.fixture()
def at_noon(clock):
    clock.move_to(NOW)


def _add(label, made, holder, kind, channel=EMAIL, account=None, *, not_before=NOW - timedelta(
        hours=4), delivered_at=None, suppressed=None):
    message = OutboxMessage(
        channel=channel, recipient="someone@example.com", subject="s", body="b",
        purpose="notice_available", cardholder_id=holder.id if holder else None, kind=kind,
        account_id=account.id if account else None, created_at=NOW - timedelta(days=1),
        not_before=not_before, delivered_at=delivered_at)
    if suppressed:
        message.suppressed_at, message.suppressed_reason = NOW - timedelta(days=1), suppressed
    _db.session.add(message)
    _db.session.flush()
    if label:
        made[label] = message.id


def _mixed(make_cardholder, make_account, plain=0) -> dict[str, int]:
    """Due messages of every kind whose decisions depend on each other (a hold-suppressed
    message no longer counts towards the cap of the next) and on what is not in the batch
    (earlier deferred messages, deliveries inside and outside the cap period)."""
    made: dict[str, int] = {}
    a = make_cardholder()  # Shanghai, noon: everything may go
    a_acct = make_account(a)
    b = make_cardholder()
    b_held, b_ok = make_account(b), make_account(b)
    raise_dispute(b_held, category="already_paid", amount=50_000)
    c = make_cardholder(timezone="America/New_York")  # 23:00: quiet
    c_acct = make_account(c, profile="us", currency="USD")
    contact.set_preference(c, SMS, on=False, source="page")
    d = make_cardholder(timezone="Mars/Olympus")  # unknown zone counts as UTC; no account
    e = make_cardholder(timezone="Europe/London")  # 04:00: quiet
    e_acct = make_account(e, profile="us", currency="USD")

    for days in (1, 1, 2, 3):  # four collection emails sent inside the 7-day period ...
        _add(None, made, b, C, EMAIL, b_ok, delivered_at=NOW - timedelta(days=days))
    _add(None, made, b, C, EMAIL, b_ok, delivered_at=NOW - timedelta(days=9))  # ... one before
    _add(None, made, b, S, EMAIL, b_ok, delivered_at=NOW - timedelta(hours=1))  # not counted
    _add(None, made, b, C, EMAIL, b_ok, suppressed="cap")  # not counted
    _add("b_deferred", made, b, C, EMAIL, b_ok, not_before=NOW + timedelta(hours=3))  # counted
    due = [("a_collection_email", a, C, EMAIL, a_acct), ("b_held", b, C, EMAIL, b_held),
           ("a_collection_sms", a, C, SMS, a_acct), ("b_fifth", b, C, EMAIL, b_ok),
           ("b_sixth", b, C, EMAIL, b_ok), ("c_collection_email", c, C, EMAIL, c_acct),
           ("b_seventh", b, C, EMAIL, b_ok), ("c_collection_sms", c, C, SMS, c_acct),
           ("b_eighth", b, C, EMAIL, b_ok), ("b_sms", b, C, SMS, b_ok),
           ("b_service_on_held", b, S, EMAIL, b_held), ("c_service_sms", c, S, SMS, c_acct),
           ("d_service_email", d, S, EMAIL, None), ("d_collection_no_account", d, C, EMAIL, None),
           ("nobody_service", None, S, EMAIL, None), ("a_service_no_account", a, S, EMAIL, None)]
    for label, holder, kind, channel, account in due:  # in this order: ids ascend
        _add(label, made, holder, kind, channel, account)
    for i in range(plain):
        _add(f"e_plain_{i}", made, e, S, SMS, e_acct)
    _add(None, made, a, T, EMAIL)  # transactional: never re-checked
    _add(None, made, a, C, EMAIL, a_acct, delivered_at=NOW - timedelta(hours=2))  # sent: counted
    _db.session.commit()
    return made


def _decisions(made) -> dict[str, tuple]:
    _db.session.expire_all()
    rows = {m.id: m for m in _db.session.scalars(select(OutboxMessage))}
    out = {}
    for label, message_id in made.items():
        m = rows[message_id]
        when = m.not_before.replace(tzinfo=UTC) if m.not_before else None
        out[label] = (m.suppressed_reason, None if m.suppressed_reason else when)
    return out


EXPECTED = {
    "b_deferred": (None, NOW + timedelta(hours=3)),  # not due: not looked at
    "a_collection_email": (None, NOW),
    "b_held": ("hold", None),
    "a_collection_sms": (None, NOW),
    "b_fifth": (None, NOW),  # 4 sent + the deferred one
    "b_sixth": (None, NOW),
    "c_collection_email": (None, NY_EIGHT),
    "b_seventh": ("cap", None),
    "c_collection_sms": ("opted_out", None),
    "b_eighth": ("cap", None),
    "b_sms": (None, NOW),  # the cap is per channel
    "b_service_on_held": (None, NOW),  # holds stop collection messages only
    "c_service_sms": ("opted_out", None),
    "d_service_email": (None, UTC_EIGHT),
    "d_collection_no_account": (None, UTC_EIGHT),
    "nobody_service": (None, NOW),
    "a_service_no_account": (None, NOW),
}


def test_recheck_decides_a_mixed_batch_by_the_contact_rules(at_noon, make_cardholder,
                                                            make_account):
    made = _mixed(make_cardholder, make_account)
    assert contact.recheck_due(NOW) == len(EXPECTED) - 1
    _db.session.commit()
    assert _decisions(made) == EXPECTED


def _one_at_a_time(now):
    """The reference: each due message decided alone, in id order, seeing what the earlier
    decisions wrote (as the rules were applied before batching)."""
    due = _db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.delivered_at.is_(None), OutboxMessage.suppressed_at.is_(None),
        OutboxMessage.kind != MessageKind.TRANSACTIONAL, OutboxMessage.not_before <= now)
        .order_by(OutboxMessage.id)).all()
    for message in due:
        contact.apply(message, contact.decide(message, now), now)


def test_batched_recheck_decides_what_one_at_a_time_decides(at_noon, make_cardholder,
                                                            make_account):
    made = _mixed(make_cardholder, make_account, plain=3)
    nested = _db.session.begin_nested()
    _one_at_a_time(NOW)
    alone = _decisions(made)
    nested.rollback()
    contact.recheck_due(NOW)
    batched = _decisions(made)
    assert batched == alone
    assert {k: v for k, v in batched.items() if not k.startswith("e_plain")} == EXPECTED


def _recheck_counting_queries() -> tuple[int, int]:
    """(messages looked at, statements sent to the database) for one recheck, rolled back."""
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    _db.session.expunge_all()
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        looked = contact.recheck_due(NOW)
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    _db.session.rollback()
    return looked, len(statements)


def test_recheck_queries_do_not_grow_with_the_number_of_messages(at_noon, make_cardholder,
                                                                 make_account):
    _mixed(make_cardholder, make_account, plain=3)
    few, queries = _recheck_counting_queries()
    for _ in range(30):  # thirty more cardholders, each with a message
        _add(None, {}, make_cardholder(timezone="Europe/London"), S, SMS)
    _db.session.commit()
    assert _recheck_counting_queries() == (few + 30, queries)


def test_suppressions_and_their_audit_entries_do_not_add_queries(at_noon, make_cardholder):
    made = make_cardholder()
    contact.set_preference(made, SMS, on=False, source="page")
    holder = SimpleNamespace(id=made.id)  # _recheck_counting_queries empties the session
    _add(None, {}, holder, S, SMS)
    _add(None, {}, holder, S, SMS)
    _db.session.commit()
    few, queries = _recheck_counting_queries()
    for _ in range(20):  # twenty more messages to an opted-out channel: each is suppressed
        _add(None, {}, holder, S, SMS)
    _db.session.commit()
    looked, more = _recheck_counting_queries()
    # PostgreSQL inserts the audit entries in one statement; SQLite, to return each new id
    # in order, inserts them one by one.
    allowed = 20 if _db.engine.dialect.name == "sqlite" else 0
    assert looked == few + 20 and queries <= more <= queries + allowed
    contact.recheck_due(NOW)
    _db.session.commit()
    rows = _db.session.scalars(select(OutboxMessage)).all()
    assert {m.suppressed_reason for m in rows} == {"opted_out"}
    from portal.audit.models import AuditEvent
    from portal.audit.services import verify_chain

    events = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "outbox.suppressed").order_by(AuditEvent.id)).all()
    assert [int(e.subject_id) for e in events] == sorted(m.id for m in rows)
    assert verify_chain()[1] is None


def test_delivery_never_sends_a_message_its_round_did_not_recheck(at_noon, make_cardholder,
                                                                   make_account, outbox):
    """An opt-out recorded after three collection emails were deferred: with batches of two,
    the third must not slip into a round whose re-check looked only at the first two."""
    from portal.outbox.services import deliver_due

    holder = make_cardholder()
    account = make_account(holder)
    made: dict[str, int] = {}
    for n in range(3):
        _add(f"m{n}", made, holder, C, EMAIL, account)
    contact.set_preference(holder, EMAIL, on=False, source="page")
    _db.session.commit()
    assert deliver_due(NOW, limit=2) == 0
    assert outbox() == []
    assert {reason for reason, _ in _decisions(made).values()} == {"opted_out"}


def test_delivery_in_small_batches_still_sends_everything_cleared(at_noon, make_cardholder,
                                                                 make_account, outbox):
    holder = make_cardholder()
    account = make_account(holder)
    for _ in range(3):
        _add(None, {}, holder, C, EMAIL, account)
        _add(None, {}, holder, S, SMS, account)
        _add(None, {}, holder, T, EMAIL)
    _db.session.commit()
    from portal.outbox.services import deliver_due

    assert deliver_due(NOW, limit=2) == 9
    assert len(outbox()) == 9
