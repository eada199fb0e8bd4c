"""The outbox: queue messages inside the transaction, deliver after it commits.

Whether and when a service or collection message may go (opt-outs, holds, caps, quiet hours,
the opt-out footer) is for the contact rules, which sit above the outbox: portal.wiring
registers them here (`register_delivery_rules`), so the outbox imports nothing of contact.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import event, func, insert, or_, select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.outbox.models import Channel, MessageKind, OutboxMessage
from portal.outbox.transports import DeliveryFailed, outbox_dir, transport_for
from portal.timeutil import to_utc, utcnow

_PENDING = "outbox_pending"
# Messages of `queue_transactional` (payment confirmations: the webhook's hot path) a
# transaction queued: handed on after the commit like the others, unless a poller on the job
# engine picks them up (`register_dispatcher(..., polled=...)`). Sign-in codes and every
# other message are handed on by their commit whatever the poller does, so a stopped beat
# delays a receipt, never a code someone is waiting for.
_POLLABLE = "outbox_pollable"


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
    reach = _reach(holder)
    if reach is None:
        return None
    channel, recipient = reach
    return _queue(channel, recipient, body, subject=subject if channel == Channel.EMAIL else None,
                  purpose=purpose, cardholder_id=holder.id, kind=kind, account_id=account_id)


def _reach(holder) -> tuple[Channel, str] | None:
    """How a cardholder is written to: by email, else by text message; None when neither is on
    file."""
    if holder.email:
        return Channel.EMAIL, holder.email
    if holder.phone:
        return Channel.SMS, holder.phone
    return None


def queue_transactional(holder, subject, body, *, purpose, account_id=None) -> int | None:
    """`queue_to_cardholder` for a transactional message (no contact rule applies to it),
    written with one INSERT on the table instead of an ORM object and its flush (payment
    confirmations, the webhook's hot path): the same row, delivered after the commit the same
    way. `holder` needs id, email and phone. Returns the message's id, None without either."""
    params = transactional_params(holder, subject, body, purpose=purpose, account_id=account_id)
    if params is None:
        return None
    message_id = db.session.scalar(_INSERT, {k[2:]: v for k, v in params.items()})
    queued_transactional(message_id)
    return message_id


# `queue_transactional`'s row as a CTE, `message`, for a hot path's one statement: inserted
# when :m_recipient is not NULL (`transactional_params` of a cardholder without email or
# phone), with the message's id returned.
MESSAGE_CTE = (
    "message AS (INSERT INTO outbox_message (channel, recipient, subject, body, purpose, "
    "cardholder_id, created_at, attempts, kind, account_id, not_before) "
    "SELECT :m_channel, :m_recipient, :m_subject, :m_body, :m_purpose, :m_cardholder_id, "
    "CAST(:m_created_at AS timestamptz), 0, :m_kind, :m_account_id, "
    "CAST(:m_created_at AS timestamptz) WHERE CAST(:m_recipient AS varchar) IS NOT NULL "
    "RETURNING id)")


# `MESSAGE_CTE` for several messages (`transactional_arrays` of `transactional_params`
# dicts), inserted in the order given, their ids returned.
MESSAGES_CTE = (
    "message AS (INSERT INTO outbox_message (channel, recipient, subject, body, purpose, "
    "cardholder_id, created_at, attempts, kind, account_id, not_before) "
    "SELECT m.channel, m.recipient, m.subject, m.body, m.purpose, m.cardholder_id, m.at, 0, "
    "m.kind, m.account_id, m.at FROM unnest(CAST(:m_channel AS varchar[]), "
    "CAST(:m_recipient AS varchar[]), CAST(:m_subject AS varchar[]), CAST(:m_body AS text[]), "
    "CAST(:m_purpose AS varchar[]), CAST(:m_cardholder_id AS bigint[]), "
    "CAST(:m_created_at AS timestamptz[]), CAST(:m_kind AS varchar[]), "
    "CAST(:m_account_id AS bigint[])) WITH ORDINALITY AS m(channel, recipient, subject, body, "
    "purpose, cardholder_id, at, kind, account_id, n) ORDER BY m.n RETURNING id)")
_ARRAYED = ("m_channel", "m_recipient", "m_subject", "m_body", "m_purpose", "m_cardholder_id",
            "m_created_at", "m_kind", "m_account_id")


def transactional_arrays(messages: list[dict]) -> dict:
    """`MESSAGES_CTE`'s parameters for `transactional_params` dicts (None ones left out)."""
    kept = [m for m in messages if m is not None]
    return {name: [m[name] for m in kept] for name in _ARRAYED}


def transactional_params(holder, subject, body, *, purpose, account_id=None) -> dict | None:
    """The row `queue_transactional` writes, its keys prefixed `m_` (MESSAGE_CTE's
    parameters); None when the cardholder has neither email nor phone."""
    reach = _reach(holder)
    if reach is None:
        return None
    channel, recipient = reach
    now = utcnow()
    return dict(m_channel=channel.value, m_recipient=recipient,
                m_subject=subject if channel == Channel.EMAIL else None,
                m_body=body, m_purpose=purpose, m_cardholder_id=holder.id, m_created_at=now,
                m_kind=MessageKind.TRANSACTIONAL.value, m_account_id=account_id,
                m_not_before=now, m_attempts=0)


def queued_transactional(message_id: int | None) -> None:
    """A transactional message written in this transaction (`MESSAGE_CTE` or
    `queue_transactional`) goes after the commit like any other (or to the poller)."""
    if message_id is not None:
        db.session.info.setdefault(_POLLABLE, []).append(message_id)


_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)


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


def _send(message: OutboxMessage) -> None:
    """Hand one message to its channel's configured transport (portal/outbox/transports.py)."""
    transport_for(message.channel).send(message)


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
                _send(message)
            except Exception as exc:  # noqa: BLE001 - one bad message must not undo the others
                _failed(message, exc, now)
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


def _failed(message: OutboxMessage, exc: Exception, now) -> None:
    """Record a failed delivery. A permanent refusal (DeliveryFailed.permanent), or the
    OUTBOX_MAX_ATTEMPTS-th failure, fails the message for good (`failed_at`, listed for admin
    at /staff/jobs); otherwise it stays queued with the error, out of the way of the messages
    behind it until its retry time (`retry_delay`), when `flask outbox deliver` tries again."""
    permanent = isinstance(exc, DeliveryFailed) and exc.permanent
    message.last_error = (str(exc) if isinstance(exc, DeliveryFailed)
                          else f"{type(exc).__name__}: {exc}")[:500]
    if permanent or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.failed_at = now
        current_app.logger.error("outbox message %s failed for good after %s attempt(s): %s",
                                 message.id, message.attempts, message.last_error)
    else:
        message.not_before = now + retry_delay(message.attempts)
        current_app.logger.warning("outbox message %s not delivered (attempt %s), retrying: %s",
                                   message.id, message.attempts, message.last_error)


def failed_for_good(limit: int = 50) -> list[OutboxMessage]:
    """Messages that will not be delivered after all (newest first), for admin."""
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
                              .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
                              .limit(limit)).all()


def failed_since(hours: int) -> int:
    """How many messages failed for good in the last `hours`."""
    return db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.failed_at >= utcnow() - timedelta(hours=hours)))


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
           OutboxMessage.failed_at.is_(None),
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


def deliver_transactional(now=None, limit: int = 500) -> int:
    """Send every due transactional message (receipts, sign-in codes: no contact rule applies
    to them), oldest first, `limit` a round until none is left; returns how many were sent.
    What the job engine's poller runs (`portal.outbox_poll`) instead of a task per commit.
    Several at once are safe: each message is claimed (SKIP LOCKED) and written once; a
    service or collection message is never taken here (it waits for `deliver_due`'s
    re-check, or was handed on by its own commit)."""
    total = 0
    while True:
        round_ = _deliver_round(None, limit, now, cleared=[])
        total += round_.sent
        if round_.claimed < limit:
            return total


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


# Who delivers what a committed transaction queued: this process at once, unless the job
# engine registered a dispatcher that hands the ids to a worker (portal.tasks.engine), so a
# web request does not wait for SMTP or an SMS provider; and, while `_polled()` says a
# poller on the job engine sends transactional messages (`deliver_transactional`), those of
# `queue_transactional` are not handed on at all: the commit then costs the request nothing
# more.
_dispatcher: Callable[[list[int]], None] | None = None


def _never() -> bool:
    return False


_polled: Callable[[], bool] = _never


def register_dispatcher(dispatch: Callable[[list[int]], None] | None,
                        polled: Callable[[], bool] | None = None) -> None:
    """`dispatch(ids)` takes over delivery after commit; it may call `deliver_pending(ids)`.
    `polled()` (asked at each commit, in its app context) true: a poller delivers the
    transactional messages, so the commit does not hand on those of `queue_transactional`."""
    global _dispatcher, _polled
    _dispatcher = dispatch
    _polled = polled or _never


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    ids = session.info.pop(_PENDING, None) or []
    pollable = session.info.pop(_POLLABLE, None)
    if pollable and not _polled():
        ids = sorted(ids + pollable)
    if ids:
        (_dispatcher or deliver_pending)(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the outermost transaction: nothing was sent
        session.info.pop(_PENDING, None)
        session.info.pop(_POLLABLE, None)
