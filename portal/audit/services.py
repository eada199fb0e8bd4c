"""Writing and verifying the hash-chained audit log."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, select, text, update

from portal.audit.models import AuditEvent, AuditHead
from portal.extensions import db
from portal.timeutil import as_aware, utcnow

GENESIS = "0" * 64
HEAD_ID = 1  # audit_head has this one row


def _normalise(value):
    """What is hashed must be exactly what is stored and read back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _digest(event: AuditEvent) -> str:
    payload = {
        "prev": event.prev_hash,
        "at": as_aware(event.created_at).astimezone(timezone.utc).isoformat(),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _current_actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        kind = "staff" if current_user.is_staff else "cardholder"
        return kind, str(current_user.id)
    return ("anonymous", None) if has_request_context() else ("system", None)


def _lock_chain():
    # Two transactions appending at once would both link to the same predecessor.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7262001)"))


def record(action, *, subject=None, subject_type=None, subject_id=None,
           before=None, after=None, actor=None) -> AuditEvent:
    """Append one event to the chain in the current transaction (flushed, not committed).

    `subject` may be a model instance; its table name and id become the subject.
    `actor` is a (type, id) pair; by default the signed-in user, else anonymous/system.
    """
    return record_many([dict(action=action, subject=subject, subject_type=subject_type,
                             subject_id=subject_id, before=before, after=after, actor=actor)])[0]


def record_many(events: list[dict]) -> list[AuditEvent]:
    """Append several events, in order, with one chain lock, one read of the chain's head and
    one flush: for batch jobs (the feed import) that record an event per account. Each dict
    takes `record`'s keyword arguments plus `action`."""
    if not events:
        return []
    _lock_chain()
    head = _read_head()
    prev = head.last_hash if head else _newest_hash()
    at = utcnow().replace(microsecond=0)
    ip = request.remote_addr if has_request_context() else None
    default_actor = None
    made = []
    for spec in events:
        subject = spec.get("subject")
        subject_type, subject_id = spec.get("subject_type"), spec.get("subject_id")
        if subject is not None:
            subject_type = subject_type or subject.__tablename__
            subject_id = subject_id if subject_id is not None else subject.id
        actor = spec.get("actor")
        if actor is None:
            default_actor = default_actor or _current_actor()
            actor = default_actor
        actor_type, actor_id = actor
        event = AuditEvent(
            created_at=at,
            actor_type=actor_type,
            actor_id=None if actor_id is None else str(actor_id),
            action=spec["action"],
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            before=_normalise(spec.get("before")),
            after=_normalise(spec.get("after")),
            ip=ip,
            prev_hash=prev or GENESIS,
        )
        event.hash = _digest(event)
        prev = event.hash
        db.session.add(event)
        made.append(event)
    db.session.flush()
    _advance_head(head, made)
    return made


def _read_head():
    """The head row as (event_count, last_id, last_hash), read from the database (never a
    copy cached in the session), or None when there is none."""
    return db.session.execute(
        select(AuditHead.event_count, AuditHead.last_id, AuditHead.last_hash)
        .where(AuditHead.id == HEAD_ID)).first()


def _newest_hash() -> str | None:
    return db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))


def _advance_head(head, made: list[AuditEvent]) -> None:
    newest = dict(last_id=made[-1].id, last_hash=made[-1].hash)
    if head is None:
        # An empty database (the migration writes the row; tests clear every table). Were
        # older events left without a head, they are not counted here, so `verify` reports it.
        db.session.execute(insert(AuditHead).values(id=HEAD_ID, event_count=len(made), **newest))
        return
    db.session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID)
        .values(event_count=AuditHead.event_count + len(made), **newest),
        execution_options={"synchronize_session": False})


@dataclass
class ChainBreak:
    event_id: int | None  # None when no event can be named (the head row is missing)
    reason: str


def verify_chain(batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in id order, then hold its end against the head row; return (events
    checked, first break or None). An edited event, a deleted or inserted one anywhere
    (the newest included) and a missing head are breaks."""
    # Read before the walk: events appended meanwhile come after the head's newest event.
    head = _read_head()
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    at_head = None  # (id, hash) of the event the head counts last: number head.event_count
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not rows:
            return checked, _check_head(head, checked, last_id, at_head)
        for event in rows:
            if event.prev_hash != expected_prev:
                return checked, ChainBreak(event.id, "links to a hash that is not the previous event's (an event was deleted or inserted)")
            if _digest(event) != event.hash:
                return checked, ChainBreak(event.id, "content does not match its hash (the event was edited)")
            expected_prev = event.hash
            checked += 1
            last_id = event.id
            if head is not None and checked == head.event_count:
                at_head = (event.id, event.hash)
        db.session.expunge_all()


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


def _check_head(head, checked: int, last_id: int, at_head) -> ChainBreak | None:
    """The intact chain against the head row written by every append."""
    if head is None:
        if checked == 0:
            return None
        return ChainBreak(None, "the chain's head row (table audit_head) is missing, so a "
                                "deletion of the newest events cannot be ruled out")
    if checked < head.event_count:
        missing = head.event_count - checked
        what = "the newest event was" if missing == 1 else f"the newest {missing} events were"
        end = f"the log ends at audit event {last_id}" if checked else "the log is empty"
        return ChainBreak(head.last_id, f"{what} deleted: {end}, but its head records "
                                        f"{_events(head.event_count)} ending at audit event "
                                        f"{head.last_id}")
    if head.event_count and at_head[1] != head.last_hash:
        return ChainBreak(at_head[0], f"is event number {head.event_count}, the newest the "
                                      f"chain's head records, but its hash is not the head's "
                                      f"(the newest events were replaced or the head was reset)")
    return None
