"""Writing and verifying the hash-chained audit log."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select, text

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import as_aware, utcnow

GENESIS = "0" * 64


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
    prev = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
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
    return made


@dataclass
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in id order; return (events checked, first break or None)."""
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not rows:
            return checked, None
        for event in rows:
            if event.prev_hash != expected_prev:
                return checked, ChainBreak(event.id, "links to a hash that is not the previous event's (an event was deleted or inserted)")
            if _digest(event) != event.hash:
                return checked, ChainBreak(event.id, "content does not match its hash (the event was edited)")
            expected_prev = event.hash
            checked += 1
            last_id = event.id
        db.session.expunge_all()
