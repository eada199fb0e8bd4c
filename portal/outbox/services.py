"""The outbox: queue messages inside the transaction, deliver after it commits.

Whether and when a service or collection message may go (opt-outs, holds, caps, quiet hours,
the opt-out footer) is for the contact rules, which sit above the outbox: portal.wiring
registers them here (`register_delivery_rules`), so the outbox imports nothing of contact.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.outbox.models import Channel, MessageKind, OutboxMessage
from portal.timeutil import as_aware, to_utc, utcnow

_PENDING = "outbox_pending"


@dataclass(frozen=True)
class DeliveryRules:
    """What the outbox asks of the contact rules (portal.contact.delivery.RULES)."""
    footer: Callable[[Channel, str, int], str]  # body with the opt-out line, for a cardholder
    admit: Callable[[OutboxMessage, datetime], None]  # decide a message just queued, store it
    # lock for sending these messages now: .over_cap(message), .sent(message)
    send_guard: Callable[[list[OutboxMessage], datetime], Any]
    suppress: Callable[[list[OutboxMessage], str, datetime], None]  # with the reason, audited
    # re-check a batch of deferred messages due now: .looked and .cleared (ids)
    recheck: Callable[..., Any]


_rules: list[DeliveryRules] = []


def register_delivery_rules(rules: DeliveryRules) -> None:
    """The contact rules the outbox applies (one set; registering again replaces it)."""
    _rules[:] = [rules]


def _delivery_rules() -> DeliveryRules:
    if not _rules:  # never send a service or collection message unchecked
        raise RuntimeError("the outbox has no contact rules: call portal.wiring.wire() first")
    return _rules[0]


def _checked(message: OutboxMessage) -> bool:
    """Whether the contact rules apply to the message (transactional ones always go)."""
    return message.kind != MessageKind.TRANSACTIONAL and message.cardholder_id is not None


def queue_email(recipient, subject, body, *, purpose, cardholder_id=None,
                kind=MessageKind.TRANSACTIONAL, account_id=None) -> OutboxMessage:
    """Add an email to the outbox; it is delivered only if the transaction commits.

    `kind` (MessageKind) says which contact rules apply: a transactional message goes at
    once; a service or collection message carries an opt-out line and gets `not_before`
    (quiet hours in the cardholder's zone) or is suppressed (opted out, cap, hold on
    `account_id`) - see portal/contact/services.py.
    """
    return _queue(Channel.EMAIL, recipient, body, subject=subject, purpose=purpose,
                  cardholder_id=cardholder_id, kind=kind, account_id=account_id)


def queue_sms(recipient, body, *, purpose, cardholder_id=None,
              kind=MessageKind.TRANSACTIONAL, account_id=None) -> OutboxMessage:
    """Add a text message to the outbox; delivered only if the transaction commits.
    `kind` and `account_id` as for queue_email."""
    return _queue(Channel.SMS, recipient, body, purpose=purpose, cardholder_id=cardholder_id,
                  kind=kind, account_id=account_id)


def queue_to_cardholder(holder, subject, body, *, purpose, kind=MessageKind.TRANSACTIONAL,
                        account_id=None) -> OutboxMessage | None:
    """Email the cardholder, or text them when there is no email on file; None when neither."""
    if holder.email:
        return queue_email(holder.email, subject, body, purpose=purpose, cardholder_id=holder.id,
                           kind=kind, account_id=account_id)
    if holder.phone:
        return queue_sms(holder.phone, body, purpose=purpose, cardholder_id=holder.id, kind=kind,
                         account_id=account_id)
    return None


def _queue(channel, recipient, body, *, subject=None, purpose, cardholder_id, kind,
           account_id):
    kind = MessageKind(kind)
    now = utcnow()
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body,
                            purpose=purpose, cardholder_id=cardholder_id, created_at=now,
                            kind=kind, account_id=account_id, not_before=now)
    if _checked(message):
        rules = _delivery_rules()
        message.body = rules.footer(channel, body, cardholder_id)
    db.session.add(message)
    db.session.flush()
    if _checked(message):
        rules.admit(message, now)
    if message.suppressed_at is None:
        db.session.info.setdefault(_PENDING, []).append(message.id)
    return message


def outbox_dir() -> str:
    path = current_app.config.get("OUTBOX_DIR") or os.path.join(current_app.instance_path, "outbox")
    os.makedirs(path, exist_ok=True)
    return path


def _write_file(message: OutboxMessage) -> str:
    created = as_aware(message.created_at)
    stem = f"{created:%Y%m%dT%H%M%S}-{message.id:08d}-{message.purpose}"
    directory = outbox_dir()
    if message.channel == Channel.EMAIL:
        mail = EmailMessage()
        mail["From"] = current_app.config["MAIL_FROM"]
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(created)
        mail["Message-ID"] = make_msgid(idstring=str(message.id))
        mail.set_content(message.body)
        path, data = os.path.join(directory, stem + ".eml"), mail.as_bytes()
    else:
        payload = {"to": message.recipient, "body": message.body, "created_at": created.isoformat()}
        path = os.path.join(directory, stem + ".json")
        data = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # a reader never sees half a message
    return path


class _Round(NamedTuple):
    claimed: int
    sent: int
    failed: int
    suppressed: int


def deliver_pending(ids=None, limit: int = 500, now=None) -> int:
    """Deliver undelivered, unsuppressed messages due at `now` (those in `ids`, or all);
    returns how many were sent. A message whose `not_before` is later stays queued.

    Several workers may run it at once: each message is claimed before it is written, so it
    is written once, and a collection message goes only if its cardholder's cap still allows
    it, checked under that cardholder's lock until the sends are committed (else it is
    suppressed, reason "cap"). Opt-outs, holds and quiet hours are not re-applied here:
    `deliver_due` does that first for deferred messages.

    Runs in an app context (so a session) of its own, so it can be called after the caller's
    commit.
    """
    return _deliver_round(ids, limit, now).sent


def _deliver_round(ids, limit, now, cleared=None) -> _Round:
    """One claim-and-send round. With `cleared` (ids the contact rules just re-checked),
    only those and transactional messages may go: a service or collection message nobody
    re-checked this round waits for the next."""
    now = to_utc(now) if now else utcnow()
    sent = failed = 0
    over_cap = []
    with current_app.app_context():  # its own db.session, removed when the context ends
        messages = _claim(ids, limit, now, cleared)
        guard = (_delivery_rules().send_guard(messages, now)
                 if any(_checked(m) for m in messages) else None)
        for message in messages:
            if guard is not None and guard.over_cap(message):
                over_cap.append(message)
                continue
            try:
                _write_file(message)
            except Exception as exc:  # noqa: BLE001 - one bad message must not undo the others
                # keep it queued with the error, out of the way of the messages behind it
                # until its retry time; `flask outbox deliver` tries it again then
                current_app.logger.exception("outbox message %s not delivered", message.id)
                message.last_error = f"{type(exc).__name__}: {exc}"[:500]
                message.not_before = now + retry_delay(message.attempts)
                failed += 1
                continue
            message.delivered_at, message.last_error = now, None
            if guard is not None:
                guard.sent(message)
            sent += 1
        # audited after the sends, so the audit chain's lock is not held while files are written
        if over_cap:
            _delivery_rules().suppress(over_cap, "cap", now)
        db.session.commit()
    return _Round(len(messages), sent, failed, len(over_cap))


def retry_delay(attempts: int) -> timedelta:
    """How long a message that failed its `attempts`-th delivery waits before the next one:
    5 minutes, doubling, at most 6 hours."""
    return min(timedelta(minutes=5) * 2 ** min(max(0, attempts - 1), 7), timedelta(hours=6))


def _claim(ids, limit, now, cleared=None) -> list[OutboxMessage]:
    """Due messages (of `ids`, or any; with `cleared`, only transactional ones and those ids)
    that this transaction now owns, oldest first, with their attempt counted. On PostgreSQL rows another worker holds are skipped (FOR UPDATE
    SKIP LOCKED); on SQLite the claiming UPDATE takes the database's write lock until commit,
    and another worker's claim then finds those messages delivered."""
    due = [OutboxMessage.delivered_at.is_(None), OutboxMessage.suppressed_at.is_(None),
           or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now)]
    if ids is not None:
        due.append(OutboxMessage.id.in_(ids))
    if cleared is not None:
        due.append(or_(OutboxMessage.kind == MessageKind.TRANSACTIONAL,
                       OutboxMessage.id.in_(cleared)))
    pick = select(OutboxMessage.id).where(*due).order_by(OutboxMessage.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    chosen = db.session.scalars(pick).all()
    if not chosen:
        return []
    claimed = db.session.scalars(
        update(OutboxMessage).where(OutboxMessage.id.in_(chosen), *due)
        .values(attempts=OutboxMessage.attempts + 1).returning(OutboxMessage),
        execution_options={"synchronize_session": False}).all()
    return sorted(claimed, key=lambda m: m.id)


def deliver_due(now=None, limit: int = 500) -> int:
    """Send everything due at `now` (default: the portal's clock): each round re-checks a batch
    of deferred service and collection messages against the contact rules (commit), then
    sends the ones it cleared and any due transactional message; a service or collection
    message is never sent without that re-check. Returns how many were sent. Operators run
    it every few minutes (`flask outbox deliver`).
    """
    now = to_utc(now) if now else utcnow()
    rules = _delivery_rules()
    total = 0
    while True:
        rechecked = rules.recheck(now, limit=limit)
        db.session.commit()
        round_ = _deliver_round(None, limit, now, cleared=rechecked.cleared)
        total += round_.sent
        more = len(rechecked.looked) == limit or round_.claimed == limit
        moved = (len(rechecked.looked) - len(rechecked.cleared) + round_.sent
                 + round_.suppressed + round_.failed)  # a failed one waits for its retry time
        # Stop when the queue is drained (or left to other workers), or nothing moved.
        if not more or not moved:
            return total


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    ids = session.info.pop(_PENDING, None)
    if ids:
        deliver_pending(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the outermost transaction: nothing was sent
        session.info.pop(_PENDING, None)
