"""Provider events: verified, recorded once (unique event id), applied idempotently in any order.

`receive` never parses an unverified payload. The caller commits; if anything fails (the database
included) the transaction rolls back, the event id is not kept, and the provider's retry is
processed as new.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import bindparam, exists, not_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.audit.services import record
from portal.core.database import kept_autocommit
from portal.core.inputs import parse_id
from portal.extensions import db
from portal.payments import fast_posting, wake
from portal.payments.gateway import (BadSignature, ProviderUnavailable, get_gateway,
                                     intent_from_object)
from portal.payments.models import Payment, ReversalKind, WebhookEvent
from portal.payments.posting import find_locked, lock_payment, post_reversal, reinstate_reversal
from portal.payments.services import apply_intent
from portal.payments.states import PaymentStatus
from portal.timeutil import utcnow

INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed",
                 "payment_intent.processing", "payment_intent.canceled",
                 "payment_intent.requires_action"}


class MalformedEvent(BadSignature):
    """A verified body that is not an event we can record (no id, not an object): refused
    like a bad signature, with a 400, rather than failing on the way to the database."""


def _is_text(value, most: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= most and "\x00" not in value


def check_shape(event) -> dict:
    """`event` if it has what `handle_event` records (MalformedEvent otherwise)."""
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(event, dict) or not _is_text(event.get("id"), 128) \
            or not isinstance(data or {}, dict) or not isinstance(obj or {}, dict) \
            or (obj and obj.get("id") is not None and not _is_text(obj.get("id"), 128)):
        raise MalformedEvent("not an event")
    return event


def receive(payload: bytes, signature: str | None) -> str:
    """Verify (raises BadSignature, or MalformedEvent for a body that is not an event), record
    and handle one event; returns what happened. With the inbox on, only recorded: "accepted"
    (a worker applies it, `portal.payments.inbox`) or "duplicate"."""
    event = check_shape(get_gateway().construct_event(payload, signature))
    if inbox_on():
        return "accepted" if record_pending(event) else "duplicate"
    return handle_event(event)


def inbox_on(config=None) -> bool:
    """WEBHOOK_INBOX: "auto" (on where beat polls: a broker and OUTBOX_POLL_SECONDS), or forced.
    `config`: the app's (default: the current app's)."""
    config = current_app.config if config is None else config
    value = str(config.get("WEBHOOK_INBOX", "auto")).lower()
    if value == "auto":
        return bool(config.get("JOBS_BROKER_URL")) and config.get("OUTBOX_POLL_SECONDS", 0) > 0
    return value in ("1", "true", "yes", "on")


def record_pending(event: dict, provider: str | None = None) -> bool:
    """Record a verified event, its body included, as pending for the inbox's worker: one
    INSERT .. ON CONFLICT DO NOTHING on the event id. True when this call inserted it (False:
    a duplicate, recorded before by either path).

    When the inbox had no other event due (as this transaction sees it) and no worker is
    awake (PostgreSQL; the same statement; asked by a process at most every
    `wake.CHECK_EVERY` seconds), the commit wakes the inbox's worker
    (`portal.payments.wake`), so the posting starts at once instead of at beat's next poll;
    otherwise the worker draining takes this one too, and beat's poll stays the safety net
    for a lost wake-up."""
    inserted, first = _insert_pending(db.session, db.session.get_bind().dialect.name,
                                      _pending_row(event, provider))
    if first:
        wake.after_commit()
    return inserted


def accept(payload: bytes, signature: str | None) -> str:
    """`receive` with the inbox on, outside the ORM session and its transaction (the
    request's fast path, `portal.payments.webhook_wsgi`): verified (BadSignature,
    MalformedEvent) before anything is written, then recorded as `record_pending` records
    it, and committed: "accepted" or "duplicate".

    On PostgreSQL the one statement runs in autocommit on a kept connection
    (`core.database.kept_autocommit`): it is its own transaction, with no BEGIN and no COMMIT
    round trip, and the wake-up question's shared lock is held to its commit, as in a
    request's transaction. SQLite's two statements run in one transaction on a pooled
    connection. A failure raises (DBAPIError) with nothing kept; the worker is woken only
    after the commit."""
    gateway = get_gateway()
    row = _pending_row(check_shape(gateway.construct_event(payload, signature)), gateway.name)
    engine = db.engine
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with kept_autocommit(engine) as conn:
            inserted, first = _insert_pending(conn, dialect, row)
    else:
        with engine.begin() as conn:
            inserted, first = _insert_pending(conn, dialect, row)
    if first:
        wake.now()
    return "accepted" if inserted else "duplicate"


def _pending_row(event: dict, provider: str | None = None) -> dict:
    obj = (event.get("data") or {}).get("object") or {}
    return _event_row(provider or get_gateway().name, str(event["id"]),
                      str(event.get("type"))[:64], obj.get("id"), payload=event, state="pending")


def _insert_pending(conn, dialect: str, row: dict) -> tuple[bool, bool]:
    """`record_pending`'s statements on `conn` (the ORM session or a Core connection):
    whether the row was inserted, and whether it is the first due (wake the worker)."""
    if not wake.time_to_check():
        return conn.scalar(_RECORD[dialect], row) is not None, False
    if dialect == "postgresql":
        got = conn.execute(_RECORD_PENDING, row).first()
        return got is not None, got is not None and bool(got.first)
    inserted = conn.scalar(_RECORD["sqlite"], row) is not None
    return inserted, inserted and not conn.scalar(_OTHER_DUE, dict(event_id=row["event_id"]))


def handle_event(event: dict, provider: str | None = None) -> str:
    """Record a verified event under its unique id and apply it. Returns "duplicate" for an
    event seen before, "ignored" for one about nothing we know, else "processed"."""
    obj = (event.get("data") or {}).get("object") or {}
    provider = provider or get_gateway().name
    if event.get("type") == "payment_intent.succeeded" and fast_posting.usable():
        return _succeeded_fast(provider, event, obj)
    if not _record_once(provider, str(event["id"]), str(event.get("type"))[:64], obj.get("id")):
        return "duplicate"
    return _apply(event, obj)


def apply_recorded(event: dict, claimed: fast_posting.Claimed | None = None) -> str:
    """Apply an event recorded before (the inbox's worker) exactly as `handle_event` applies
    one it has just recorded: the same handlers, the same fast posting (its lock without the
    insert, or `claimed`: that lock taken for the batch, `fast_posting.lock_batch`).
    "processed" or "ignored"; raises as `handle_event` would."""
    obj = (event.get("data") or {}).get("object") or {}
    if event.get("type") == "payment_intent.succeeded" and fast_posting.usable():
        return _post_claimed(claimed or fast_posting.lock(obj), event, obj)
    return _apply(event, obj)


def _apply(event: dict, obj: dict) -> str:
    handler = _HANDLERS.get(event.get("type"))
    if handler is None:
        return "ignored"
    return "processed" if handler(obj, _event_time(event)) else "ignored"


def _succeeded_fast(provider: str, event: dict, obj: dict) -> str:
    """`handle_event` for a success on PostgreSQL: recorded and, in the common case, posted
    by `fast_posting` in a few statements; else handled as any event (`_on_intent`)."""
    claimed = fast_posting.claim(provider, str(event["id"]), str(event.get("type"))[:64], obj,
                                 utcnow())
    if claimed is None:
        return "duplicate"
    return _post_claimed(claimed, event, obj)


def success_intent(event: dict):
    """The intent a success event reports, dated by the event when it carries no success time
    (what `_on_intent` posts)."""
    intent = intent_from_object((event.get("data") or {}).get("object") or {})
    return replace(intent, succeeded_at=intent.succeeded_at or _event_time(event))


def handled(kind) -> bool:
    """Whether events of type `kind` have a handler (others are ignored, changing nothing)."""
    return kind in _HANDLERS


def _post_claimed(claimed: fast_posting.Claimed, event: dict, obj: dict) -> str:
    """A success whose payment `claimed` locked: posted fast when it can be, else `_on_intent`."""
    if claimed.row is not None:
        if fast_posting.post(claimed.row, success_intent(event)) is not None:
            return "processed"
    return "processed" if _on_intent(obj, _event_time(event)) else "ignored"


def _record_once(provider: str, event_id: str, kind: str, object_ref, **more) -> bool:
    """Insert the event's row unless its id is known; True when this call inserted it.

    One INSERT .. ON CONFLICT DO NOTHING in the request's transaction, so the row goes when the
    transaction rolls back. (A savepoint did not: on SQLite, releasing a savepoint opened
    before any write commits, so a failed event stayed recorded and its retry was dropped.)
    `more`: other columns of the row (the inbox's body and state, `record_pending`).
    """
    inserted = db.session.scalar(_RECORD[db.session.get_bind().dialect.name],
                                 _event_row(provider, event_id, kind, object_ref, **more))
    return inserted is not None


def _event_row(provider: str, event_id: str, kind: str, object_ref, **more) -> dict:
    return dict(provider=provider, event_id=event_id, type=kind,
                object_ref=str(object_ref)[:128] if object_ref else None, received_at=utcnow(),
                **more)


# Built once (SQLAlchemy then finds it compiled without building or keying it again): on the
# table, not the mapped class, so it skips the ORM's bulk-insert machinery.
_RECORD = {name: insert(WebhookEvent.__table__)
           .on_conflict_do_nothing(index_elements=["event_id"])
           .returning(WebhookEvent.__table__.c.id)
           for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


def _due_pending():
    """An event the inbox's worker would claim now, or after a failure's wait has passed
    (`inbox._claim`'s condition without the clock: one waiting on its retry does not count)."""
    table = WebhookEvent.__table__
    return exists().where(table.c.state == "pending", table.c.retry_at.is_(None))


def _record_pending_pg():
    """`record_pending` on PostgreSQL: the insert, and whether it is the first (no other
    event due, and no inbox worker awake: `wake.nobody_awake`), in one statement (a CTE's
    insert is not visible to the statement's own subquery)."""
    table = WebhookEvent.__table__
    columns = ("provider", "event_id", "type", "object_ref", "received_at", "payload", "state")
    inserted = (pg_insert(table)
                .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(table.c.id).cte("inserted"))
    return select(inserted.c.id,
                  wake.when_empty(not_(_due_pending()), wake.nobody_awake()).label("first"))


_RECORD_PENDING = _record_pending_pg()
_OTHER_DUE = select(_due_pending().where(
    WebhookEvent.__table__.c.event_id != bindparam("event_id")))


def _event_time(event: dict) -> datetime | None:
    """When the provider says the event happened (Stripe's `created`, Unix seconds)."""
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, (int, float)) or created <= 0:
        return None
    return datetime.fromtimestamp(int(created), timezone.utc)


def _payment_for(intent_ref: str | None, metadata: dict | None = None) -> Payment | None:
    """The payment an event is about, locked (read once: the handlers need the lock anyway)."""
    payment_id = parse_id((metadata or {}).get("payment_id"))
    if payment_id:
        payment = find_locked(id=payment_id)
        if payment is not None and payment.provider_ref in (None, intent_ref):
            return payment
    if intent_ref:
        return find_locked(provider_ref=intent_ref)
    return None


def _on_intent(obj: dict, created: datetime | None = None) -> bool:
    intent = intent_from_object(obj)
    intent = replace(intent, succeeded_at=intent.succeeded_at or created)
    payment = _payment_for(intent.ref, intent.metadata)
    if payment is None:
        return False
    apply_intent(payment, intent, locked=True)
    return True


def _refunds_of(obj: dict, payment: Payment) -> list[tuple[str, int]]:
    """(refund id, amount) of every refund on the charge: from the event's refunds list, or
    from the provider when the event does not carry the whole list."""
    listed = obj.get("refunds")
    data = listed.get("data") if isinstance(listed, dict) else None
    if data is None or listed.get("has_more"):
        data = get_gateway().list_refunds(payment.provider_ref)
    return [(str(r["id"]), int(r["amount"])) for r in data
            if r.get("id") and r.get("amount") and r.get("status") not in ("failed", "canceled")]


def _posted(payment: Payment) -> Payment:
    """The payment locked, with its success posted: an event about a refund or a dispute means
    the charge succeeded, though the success event may come later (providers do not promise
    an order). Asks the provider when we have not heard of the success yet; raises
    ProviderUnavailable (the event is not kept, so its retry is handled anew) while the
    provider cannot confirm it."""
    payment = lock_payment(payment.id)
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return payment
    if payment.provider_ref:
        apply_intent(payment, get_gateway().retrieve_payment_intent(payment.provider_ref))
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        raise ProviderUnavailable(f"payment {payment.id}: its success is not confirmed yet")
    return payment


def _on_charge_refunded(obj: dict, created: datetime | None = None) -> bool:
    """Post each of the charge's refunds not yet posted, under its own refund id (the same
    reference a staff refund is posted under), so no refund is ever posted twice. A refund
    reported before the payment's success posts the success first."""
    payment = _payment_for(obj.get("payment_intent"), obj.get("metadata"))
    if payment is None:
        return False
    payment = _posted(payment)
    for refund_id, amount in _refunds_of(obj, payment):
        post_reversal(payment, amount, kind=ReversalKind.REFUND, external_ref=refund_id,
                      reason="refunded at the provider")
    return True


_FINAL_DISPUTE = ("won", "lost", "warning_closed")


def _dispute_payment(obj: dict) -> Payment | None:
    """The posted payment a dispute event is about, locked and marked with the dispute's status
    (None for a payment we do not know)."""
    payment = _payment_for(obj.get("payment_intent"), obj.get("metadata"))
    if payment is None:
        return None
    payment = _posted(payment)
    status = obj.get("status")
    if payment.dispute_status in _FINAL_DISPUTE and status not in _FINAL_DISPUTE:
        return payment  # an older event, delivered late: the outcome stands
    if isinstance(status, str) and status and status != payment.dispute_status:
        record("payment.dispute_status", subject=payment,
               before={"dispute_status": payment.dispute_status},
               after={"dispute_status": status[:32], "dispute": str(obj.get("id"))[:128]})
        payment.dispute_status = status[:32]
    return payment


def _on_dispute_opened(obj: dict, created: datetime | None = None) -> bool:
    """A dispute (or an inquiry) is opened or updated: the payment is marked contested; no money
    moves until the provider withdraws the funds."""
    return _dispute_payment(obj) is not None


def _on_funds_withdrawn(obj: dict, created: datetime | None = None) -> bool:
    """The provider took the disputed amount back: the payment is reversed (once per dispute),
    unless the dispute is already known to be won (the events came out of order)."""
    payment = _dispute_payment(obj)
    if payment is None:
        return False
    if payment.dispute_status != "won":
        post_reversal(payment, int(obj.get("amount") or payment.amount),
                      kind=ReversalKind.CHARGEBACK, external_ref=f"dispute:{obj.get('id')}",
                      reason=f"chargeback: {obj.get('reason') or 'unspecified'}")
    return True


def _on_funds_reinstated(obj: dict, created: datetime | None = None) -> bool:
    """The issuer won: what the chargeback took back is posted again, once."""
    payment = _dispute_payment(obj)
    if payment is None:
        return False
    if obj.get("status") in (None, "won"):
        payment.dispute_status = "won"
    reinstate_reversal(payment, f"dispute:{obj.get('id')}", "chargeback won")
    return True


def _on_dispute_closed(obj: dict, created: datetime | None = None) -> bool:
    """Won: as funds reinstated; lost: the reversal stands (made now if the withdrawal was never
    reported); an inquiry closed (warning_closed): marked only."""
    status = obj.get("status")
    if status == "won":
        return _on_funds_reinstated(obj, created)
    if status == "lost":
        return _on_funds_withdrawn(obj, created)
    return _dispute_payment(obj) is not None


_HANDLERS = {**{name: _on_intent for name in INTENT_EVENTS},
             "charge.refunded": _on_charge_refunded,
             "charge.dispute.created": _on_dispute_opened,
             "charge.dispute.updated": _on_dispute_opened,
             "charge.dispute.funds_withdrawn": _on_funds_withdrawn,
             "charge.dispute.funds_reinstated": _on_funds_reinstated,
             "charge.dispute.closed": _on_dispute_closed}
