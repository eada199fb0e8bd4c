"""The common webhook posting in few round trips and without ORM objects (PostgreSQL).

`payment_intent.succeeded` for a payment not yet posted is most of what the webhook endpoint
receives. Here it takes:

1. a *claim*: the event's `INSERT ... ON CONFLICT DO NOTHING` and, only when it inserted, the
   payment locked (`FOR UPDATE`) with what the posting needs of its account and cardholder,
   one statement (a duplicate locks nothing and ends here);
2. the *guards*: the latest earlier payment's date (`_toward_minimum`) and, for every
   `payment_posted` listener, whether it would do anything for this posting (an active plan,
   a nightly run already past the payment's day), one statement;
3. the balance (`account_sums`: `ledger_sums` for one account in one statement, and
   `balance_from`, as `balances_for` makes it), then Python pricing with the
   same functions as `post_success` (`posting.price`, `posting.toward_minimum`, ...);
4. the writes: the entries (the same INSERT), the payment's row (one Core UPDATE), the audit
   event (`record_plain`: `record` without an ORM object), the confirmation
   (`notify.posting_confirmed`).

Anything else goes the general way (`webhooks` then calls its handler, which locks the
payment again in the same transaction and runs `apply_intent` / `post_success`): SQLite; a
payment found by provider reference only; a payment not open, cancelled, or with another
amount; a posting some listener must act on; a `payment_posted` listener without a guard
registered here (so a new listener switches this path off rather than being skipped).
tests/integration/test_fast_posting_postgres.py holds this path to `post_success`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, false, or_, select, text, update

from portal.accounts.models import Account
from portal.audit.services import record_plain
from portal.balances.services import balance_from
from portal.balances.sums import account_sums
from portal.core.inputs import parse_id
from portal.domain.dates import local_date
from portal.events import payment_posted
from portal.extensions import db
from portal.payments import notify
from portal.payments.gateway import Intent
from portal.payments.models import Payment
from portal.payments.posting import (_ENTRIES, _latest_paid_on, entry_rows, posted_after,
                                     posting_day, price, receipt_number, toward_minimum)
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


def _guarded() -> bool:
    """Every listener of payment_posted has a guard (blinker keys receivers by id)."""
    return set(payment_posted.receivers) <= {id(listener) for listener in _GUARDS}


_CLAIM = text(
    "WITH ev AS (INSERT INTO webhook_event (provider, event_id, type, object_ref, received_at) "
    "VALUES (:provider, :event_id, :type, :object_ref, :received_at) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING id) "
    "SELECT p.id, p.status, p.amount, p.currency, p.provider_ref, p.account_id, "
    "a.card_last4, a.currency AS account_currency, a.minimum_due, a.oldest_unpaid_due_date, "
    "h.id AS holder_id, h.email, h.phone, h.locale, h.timezone "
    "FROM ev LEFT JOIN LATERAL (SELECT p.id, p.status, p.amount, p.currency, p.provider_ref, "
    "p.account_id FROM payment p JOIN account la ON la.id = p.account_id "
    "WHERE ev.id IS NOT NULL AND p.id = :payment_id "
    "AND (p.provider_ref IS NULL OR p.provider_ref = :ref) "
    # the account's row as accounts.locks.lock_account_money takes it, after the payment's
    "FOR UPDATE OF p FOR NO KEY UPDATE OF la) p ON true "
    "LEFT JOIN account a ON a.id = p.account_id "
    "LEFT JOIN cardholder h ON h.id = a.cardholder_id")


@dataclass(frozen=True)
class Claimed:
    """An event recorded by `claim`; `row` is its payment, locked (None: not found by id)."""
    row: object | None


@dataclass(frozen=True)
class _Holder:
    """What the confirmation needs of the cardholder (`outbox.queue_to_cardholder`)."""
    id: int
    email: str | None
    phone: str | None
    locale: str | None


@dataclass(frozen=True)
class _Account:
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
    metadata = obj.get("metadata")
    payment_id = parse_id(metadata.get("payment_id")) if isinstance(metadata, dict) else None
    object_ref = obj.get("id")
    row = db.session.execute(_CLAIM, dict(
        provider=provider, event_id=event_id, type=kind,
        object_ref=str(object_ref)[:128] if object_ref else None, received_at=received_at,
        payment_id=payment_id, ref=object_ref)).first()
    if row is None:
        return None
    return Claimed(row if row.id is not None else None)


def post(row, intent: Intent) -> bool | None:
    """Post the claimed payment `row` as `post_success` would (True), or say it was posted
    already (False: `apply_intent` would change nothing); None when the general path must."""
    status = S(row.status)
    if intent.status != "succeeded" or row.provider_ref is None or row.provider_ref != intent.ref:
        return None
    if status in (S.SUCCEEDED, S.REFUNDED):
        return False  # a second success event (another id) for a posted payment
    if status == S.CANCELED or not PAYMENT_MACHINE.can(status, S.SUCCEEDED) \
            or (intent.amount is not None and intent.amount != row.amount):
        return None
    now = utcnow()
    today = local_date(now, row.timezone)  # `today_for`
    paid_on = posting_day(row.timezone, today, intent.succeeded_at)
    params = {"account_id": row.account_id, "payment_id": row.id, "paid_on": paid_on}
    latest, general = db.session.execute(_guards_query(), params).one()
    if general:
        return None
    account = _Account(row.account_id, row.account_currency, row.minimum_due,
                       row.oldest_unpaid_due_date)
    balance = balance_from(account, paid_on, account_sums(account.id, paid_on))
    basis = balance if latest is None or latest <= paid_on \
        else balance_from(account, latest, account_sums(account.id, latest))
    split, parts = price(row.amount, balance)
    db.session.execute(_ENTRIES, entry_rows(row.account_id, row.id, row.currency, parts,
                                            paid_on, now))
    receipt = receipt_number(paid_on, row.id)
    db.session.execute(_POSTED, dict(
        payment_id=row.id, allocation=split, toward_minimum=toward_minimum(row.amount, basis),
        paid_on=paid_on, posted_at=now, failure_code=None, failure_message=None,
        receipt_number=receipt, plan_application=[], updated_at=now))
    record_plain("payment.posted", subject=_Subject(row.id, row.account_id),
           before={"status": status.value},
           after=posted_after(row.amount, split, [], receipt))
    notify.posting_confirmed(_Holder(row.holder_id, row.email, row.phone, row.locale),
                             row.account_id, Account.masked_card.fget(row), row.amount,
                             row.currency, receipt)
    return True


@dataclass(frozen=True)
class _Subject:
    """The payment as the audit log names it (subject payment:<id>, the account's stream)."""
    id: int
    account_id: int
    __tablename__ = Payment.__tablename__


_POSTED = (update(Payment.__table__)
           .where(Payment.__table__.c.id == bindparam("payment_id"))
           .values(status=S.SUCCEEDED, **{name: bindparam(name) for name in (
               "allocation", "toward_minimum", "paid_on", "posted_at", "failure_code",
               "failure_message", "receipt_number", "plan_application", "updated_at")}))

@cache
def _guards_query():
    """The latest earlier payment's date and whether any listener needs the general path,
    built once (on the first posting, after wiring registered the guards)."""
    general = or_(false(), *[guard() for guard in _GUARDS.values()])
    return select(_latest_paid_on().scalar_subquery(), general)
