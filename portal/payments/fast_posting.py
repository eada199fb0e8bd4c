"""The common webhook posting in three round trips and without ORM objects (PostgreSQL).

`payment_intent.succeeded` for a payment not yet posted is most of what the webhook endpoint
receives. Here it takes:

1. a *claim*: the event's `INSERT ... ON CONFLICT DO NOTHING` and, only when it inserted, the
   payment locked (`FOR UPDATE`) with what the posting needs of its account and cardholder,
   one statement (a duplicate locks nothing and ends here);
2. a *read*: the latest earlier payment's date (`_toward_minimum`), for every
   `payment_posted` listener whether it would do anything for this posting (an active plan,
   a nightly run already past the payment's day: the guards, which lock what the listener
   would), the account's sums as of the payment's day (`account_sums`) and, only when no
   listener would act, the account's audit stream head, taken (`audit.head_lock`): one
   statement. The head comes after the guards' locks, as docs/money.md orders them; a
   posting sent to the general path holds no head;
3. Python pricing with the same functions as `post_success` (`posting.price`,
   `posting.toward_minimum`, `balance_from`, ...) and the audit event chained after the head
   read (`audit.plain_append`);
4. one *write*: the entries (`entry_rows`), the payment's row, the audit event with its
   head's move (`audit.APPEND_CTES`) and the confirmation (`outbox.MESSAGE_CTE`, the row
   `queue_transactional` writes), as CTEs of one statement whose counts are checked.

Anything else goes the general way (`webhooks` then calls its handler, which locks the
payment again in the same transaction and runs `apply_intent` / `post_success`): SQLite; a
payment found by provider reference only; a payment not open, cancelled, or with another
amount; a posting some listener must act on; a `payment_posted` listener without a guard
registered here (so a new listener switches this path off rather than being skipped).
The inbox's worker takes step 1's lock for a whole batch in one statement (`lock_batch`, in
account then payment id order) and skips the insert (the request recorded the event); it then
runs steps 2-4 over the batch's arrays, a round a time (`batch_posting`), with `precheck`
and the same pricing functions.
tests/integration/test_fast_posting_postgres.py holds this path to `post_success`;
tests/integration/test_lock_order_postgres.py its lock order.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import String, bindparam, false, func, not_, or_, select, text, true

from portal.accounts.models import Account
from portal.audit.services import (APPEND_CTES, check_plain_append, head_lock, plain_append,
                                   stream_for)
from portal.balances.services import balance_from
from portal.balances.sums import NAMES, account_sums, account_sums_query
from portal.core.inputs import parse_id
from portal.domain.dates import local_date
from portal.events import payment_posted
from portal.extensions import db
from portal.payments import notify
from portal.payments.gateway import Intent
from portal.payments.models import Payment
from portal.outbox.services import MESSAGE_CTE, queued_transactional
from portal.payments.posting import (_latest_paid_on, entry_rows, posted_after, posting_day,
                                     price, receipt_number, toward_minimum)
from portal.payments.states import PAYMENT_MACHINE, PaymentStatus
from portal.timeutil import utcnow

S = PaymentStatus

# listener of payment_posted -> SQL boolean (binds :account_id, :paid_on): "this posting
# needs the listener", i.e. the general path. Filled by portal.wiring next to the listeners.
_GUARDS: dict[Callable, Callable] = {}


def register_guard(listener: Callable, guard: Callable) -> None:
    """`guard()` returns a SQL boolean that is true when `listener` would act on a posting of
    the account `:account_id` dated `:paid_on`; such postings take the general path."""
    _GUARDS[listener] = guard


def guards() -> list:
    """Every registered guard's SQL boolean (binds :account_id, :paid_on)."""
    return [guard() for guard in _GUARDS.values()]


def _guarded() -> bool:
    """Every listener of payment_posted has a guard (blinker keys receivers by id)."""
    return set(payment_posted.receivers) <= {id(listener) for listener in _GUARDS}


# What the posting reads of the payment locked (`_locking`, `_LOCK_MANY`).
_PAYMENT = "SELECT p.id, p.status, p.amount, p.currency, p.provider_ref, p.account_id "


def _locking(source: str, recorded: str) -> str:
    """The payment by id, locked (`FOR UPDATE`), with what the posting needs of its account
    and cardholder as plain columns, joined to `source` when `recorded` holds (one row: the
    payment's columns NULL when not found)."""
    return (
        source + " LEFT JOIN LATERAL (" + _PAYMENT + "FROM payment p "
        "JOIN account la ON la.id = p.account_id WHERE " + recorded + " AND p.id = :payment_id "
        "AND (p.provider_ref IS NULL OR p.provider_ref = :ref) "
        # the account's row as accounts.locks.lock_account_money takes it, after the payment's
        "FOR UPDATE OF p FOR NO KEY UPDATE OF la) p ON true "
        "LEFT JOIN account a ON a.id = p.account_id "
        "LEFT JOIN cardholder h ON h.id = a.cardholder_id")


_COLUMNS = ("SELECT p.id, p.status, p.amount, p.currency, p.provider_ref, p.account_id, "
            "a.card_last4, a.currency AS account_currency, a.minimum_due, "
            "a.oldest_unpaid_due_date, h.id AS holder_id, h.email, h.phone, h.locale, "
            "h.timezone FROM ")
_CLAIM = text(
    "WITH ev AS (INSERT INTO webhook_event (provider, event_id, type, object_ref, received_at) "
    "VALUES (:provider, :event_id, :type, :object_ref, :received_at) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING id) "
    + _COLUMNS + _locking("ev", "ev.id IS NOT NULL"))
# The same lock for an event the inbox recorded before (no insert: one row, always).
_LOCK = text(_COLUMNS + _locking("(SELECT 1 AS one) ev", "true"))


# `_LOCK` for many events at once (the inbox's batch): each (payment id, intent ref) pair's
# payment with the same condition and columns, locked in account then payment id order.
_LOCK_MANY = text(
    _COLUMNS + "(" + _PAYMENT + "FROM unnest(CAST(:ids AS bigint[]), CAST(:refs AS varchar[])) AS e(id, ref) "
    "JOIN payment p ON p.id = e.id AND (p.provider_ref IS NULL OR p.provider_ref = e.ref) "
    "JOIN account la ON la.id = p.account_id ORDER BY p.account_id, p.id "
    "FOR UPDATE OF p FOR NO KEY UPDATE OF la) p "
    "JOIN account a ON a.id = p.account_id JOIN cardholder h ON h.id = a.cardholder_id")


def event_payment_id(obj: dict) -> int | None:
    """The portal's payment id an event's object carries in its metadata, if a valid one."""
    metadata = obj.get("metadata")
    return parse_id(metadata.get("payment_id")) if isinstance(metadata, dict) else None


@dataclass(frozen=True)
class Claimed:
    """An event recorded by `claim`; `row` is its payment, locked (None: not found by id)."""
    row: object | None


@dataclass(frozen=True)
class Holder:
    """What the confirmation needs of the cardholder (`outbox.queue_to_cardholder`)."""
    id: int
    email: str | None
    phone: str | None
    locale: str | None


@dataclass(frozen=True)
class PostingAccount:
    """What the balance needs of the account (`balance_from`)."""
    id: int
    currency: str
    minimum_due: int
    oldest_unpaid_due_date: date | None


def usable() -> bool:
    return db.session.get_bind().dialect.name == "postgresql" and _guarded()


def claim(provider: str, event_id: str, kind: str, obj: dict, received_at: datetime
          ) -> Claimed | None:
    """Record the event once and lock its payment, in one statement. None for a duplicate."""
    payment_id = event_payment_id(obj)
    object_ref = obj.get("id")
    row = db.session.execute(_CLAIM, dict(
        provider=provider, event_id=event_id, type=kind,
        object_ref=str(object_ref)[:128] if object_ref else None, received_at=received_at,
        payment_id=payment_id, ref=object_ref)).first()
    if row is None:
        return None
    return Claimed(row if row.id is not None else None)


def lock(obj: dict) -> Claimed:
    """`claim` for an event recorded already (the inbox): its payment locked, the same row."""
    payment_id = event_payment_id(obj)
    row = db.session.execute(_LOCK, dict(payment_id=payment_id, ref=obj.get("id"))).one()
    return Claimed(row if row.id is not None else None)


def lock_batch(events: list[dict]) -> dict[int, Claimed]:
    """`lock` for a batch of recorded events in one statement, before any is applied: for
    the index of each success event that is the first of the batch to name its payment (by
    id or by intent reference: no earlier event can have changed that payment, and what the
    row holds of its account and cardholder no posting changes, while the account's row is
    held), the `Claimed` its own `lock` would give. The payments and their accounts are locked
    in account then payment id order. Empty when this path is not usable (SQLite)."""
    if not usable():
        return {}
    named: set = set()
    wanted: dict[int, tuple[int, str]] = {}
    for n, event in enumerate(events):
        obj = (event.get("data") or {}).get("object") or {}
        payment_id = event_payment_id(obj)
        refs = {ref for ref in (obj.get("id"), obj.get("payment_intent")) if isinstance(ref, str)}
        if event.get("type") == "payment_intent.succeeded" and payment_id \
                and isinstance(obj.get("id"), str) and payment_id not in named \
                and not refs & named:
            wanted[n] = (payment_id, obj["id"])
        named |= refs | ({payment_id} - {None})
    if not wanted:
        return {}
    rows = {row.id: row for row in db.session.execute(_LOCK_MANY, dict(
        ids=[payment_id for payment_id, _ in wanted.values()],
        refs=[ref for _, ref in wanted.values()]))}
    return {n: Claimed(rows.get(payment_id)) for n, (payment_id, _) in wanted.items()}


def precheck(row, intent: Intent) -> bool | None:
    """What `post` decides from the claimed row alone: True (go on and read), False (posted
    already: nothing to do), None (the general path)."""
    status = S(row.status)
    if intent.status != "succeeded" or row.provider_ref is None or row.provider_ref != intent.ref:
        return None
    if status in (S.SUCCEEDED, S.REFUNDED):
        return False  # a second success event (another id) for a posted payment
    if status == S.CANCELED or not PAYMENT_MACHINE.can(status, S.SUCCEEDED) \
            or (intent.amount is not None and intent.amount != row.amount):
        return None
    return True


def post(row, intent: Intent) -> bool | None:
    """Post the claimed payment `row` as `post_success` would (True), or say it was posted
    already (False: `apply_intent` would change nothing); None when the general path must."""
    verdict = precheck(row, intent)
    if not verdict:
        return verdict
    status = S(row.status)
    now = utcnow()
    today = local_date(now, row.timezone)  # `today_for`
    paid_on = posting_day(row.timezone, today, intent.succeeded_at)
    subject = PostedSubject(row.id, row.account_id)
    read = db.session.execute(_read_query(), dict(
        account_id=row.account_id, payment_id=row.id, paid_on=paid_on, as_of=paid_on,
        stream=stream_for(subject))).one()
    if read.event_count is None:  # a guard said so, and no audit head was taken:
        return None  # the general path takes its locks in the documented order
    rows, split, toward, receipt, message = priced(row, paid_on, read, now)
    written = db.session.execute(_WRITE, dict(
        account_id=row.account_id, currency=row.currency, paid_on=paid_on, posted_at=now,
        e_kind=[column_text(r["kind"]) for r in rows],
        e_component=[column_text(r["component"]) for r in rows],
        e_amount=[r["amount"] for r in rows], e_source_ref=[r["source_ref"] for r in rows],
        payment_id=row.id, status=S.SUCCEEDED.value, allocation=json.dumps(split),
        toward_minimum=toward, receipt_number=receipt,
        plan_application=json.dumps([]),
        **plain_append("payment.posted", (read.event_count, read.last_hash), subject=subject,
                       before={"status": status.value},
                       after=posted_after(row.amount, split, [], receipt)),
        **(message or _NO_MESSAGE))).one()
    if written.entries != len(rows) or written.paid != 1:
        raise RuntimeError(f"fast posting of payment {row.id}: not written as priced")
    check_plain_append(written.event_id, written.moved)
    queued_transactional(written.message_id)
    return True


def priced(row, paid_on: date, read, now: datetime) -> tuple:
    """The posting of the locked payment `row` on `paid_on`, priced from `read` (the account's
    sums as of that day, NAMES, and the latest earlier payment's date, `latest`): its entry
    rows, allocation, amount toward the minimum, receipt number and confirmation (or None).
    What `post` and the batch's rounds (`batch_posting.post_many`) write."""
    account = PostingAccount(row.account_id, row.account_currency, row.minimum_due,
                             row.oldest_unpaid_due_date)
    balance = balance_from(account, paid_on, tuple(int(read._mapping[name]) for name in NAMES))
    basis = balance if read.latest is None or read.latest <= paid_on \
        else balance_from(account, read.latest, account_sums(account.id, read.latest))
    split, parts = price(row.amount, balance)
    receipt = receipt_number(paid_on, row.id)
    message = notify.confirmation_params(
        Holder(row.holder_id, row.email, row.phone, row.locale), row.account_id,
        Account.masked_card.fget(row), row.amount, row.currency, receipt)
    return (entry_rows(row.account_id, row.id, row.currency, parts, paid_on, now), split,
            toward_minimum(row.amount, basis), receipt, message)


def column_text(value) -> str:
    """An enum member as the value its column stores (`str_enum`)."""
    return getattr(value, "value", value)


@dataclass(frozen=True)
class PostedSubject:
    """The payment as the audit log names it (subject payment:<id>, the account's stream)."""
    id: int
    account_id: int
    __tablename__ = Payment.__tablename__


# The posting's writes in one round trip: its entries (`entry_rows`, in order), the payment's
# row, the audit event with its stream's head moved (`APPEND_CTES`; the head was locked by
# the read) and the confirmation (`MESSAGE_CTE`). The counts say what was written.
_WRITE = text(
    "WITH entries AS (INSERT INTO ledger_entry (account_id, kind, component, amount, currency, "
    "effective_date, source_ref, reversal_of_id, posted_at) "
    "SELECT :account_id, e.kind, e.component, e.amount, :currency, CAST(:paid_on AS date), "
    "e.source_ref, NULL, CAST(:posted_at AS timestamptz) "
    "FROM unnest(CAST(:e_kind AS varchar[]), CAST(:e_component AS varchar[]), "
    "CAST(:e_amount AS bigint[]), CAST(:e_source_ref AS varchar[])) WITH ORDINALITY "
    "AS e(kind, component, amount, source_ref, n) ORDER BY e.n RETURNING id), "
    "paid AS (UPDATE payment SET status = :status, allocation = CAST(:allocation AS json), "
    "toward_minimum = :toward_minimum, paid_on = CAST(:paid_on AS date), "
    "posted_at = CAST(:posted_at AS timestamptz), failure_code = NULL, failure_message = NULL, "
    "receipt_number = :receipt_number, plan_application = CAST(:plan_application AS json), "
    "updated_at = CAST(:posted_at AS timestamptz) WHERE id = :payment_id RETURNING id), "
    + APPEND_CTES + ", " + MESSAGE_CTE + " "
    "SELECT (SELECT count(*) FROM entries) AS entries, (SELECT count(*) FROM paid) AS paid, "
    "(SELECT id FROM inserted) AS event_id, (SELECT count(*) FROM moved) AS moved, "
    "(SELECT id FROM message) AS message_id")
_NO_MESSAGE = dict.fromkeys(("m_channel", "m_recipient", "m_subject", "m_body", "m_purpose",
                             "m_cardholder_id", "m_created_at", "m_kind", "m_account_id"))


@cache
def _read_query():
    """The latest earlier payment's date, the account's sums as of the posting day
    (`account_sums`) and, only when no listener needs the general path (every guard false
    or NULL), its audit stream's head, taken (`head_lock`; no head row: the general path):
    one statement, built once (on the first posting, after wiring registered the guards).
    The guards are evaluated once, in the head's condition, so the head comes after their
    locks (the nightly state), as docs/money.md orders them; a posting sent to the general
    path holds no head, so it still takes the plan and nightly state before it."""
    general = func.coalesce(or_(false(), *[guard() for guard in _GUARDS.values()]), false())
    head = head_lock(bindparam("stream", type_=String), not_(general))
    sums = account_sums_query().subquery()
    return (select(_latest_paid_on().scalar_subquery().label("latest"),
                   *[column.label(name) for column, name in zip(sums.c, NAMES)],
                   head.c.event_count, head.c.last_hash)
            .select_from(sums).outerjoin(head, true()))
