"""Posting a successful payment to the ledger, and reversing it (refund, chargeback).

Both are idempotent: a payment is posted once (its row is locked and its status checked; the
ledger's unique source_ref refuses a second entry even if that check were bypassed), and a
reversal is keyed by its external reference.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import joinedload

from portal.accounts.locks import lock_loaded_account
from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import balance_of, today_for
from portal.balances.sums import BEYOND_MINIMUM
from portal.domain.allocation import UNAPPLIED
from portal.domain.dates import local_date
from portal.events import PaymentPosted, PaymentReversed, emit, payment_posted, payment_reversed
from portal.extensions import db
from portal.payments import notify
from portal.payments.models import Payment, PaymentChoice, PaymentReversal, ReversalKind
from portal.payments.rules import REVERSAL_ORDER, payment_split, plan_unwind, reversal_split
from portal.payments.states import PAYMENT_MACHINE, PaymentStatus
from portal.timeutil import as_aware, utcnow

S = PaymentStatus


def lock_payment(payment_id: int) -> Payment:
    """Load the payment with a row lock (PostgreSQL), fresh from the database."""
    payment = find_locked(id=payment_id)
    if payment is None:
        raise NoResultFound(f"no payment {payment_id}")
    return payment


def find_locked(**key) -> Payment | None:
    """The payment with the one column given (`id=` or `provider_ref=`), loaded fresh with a
    row lock (PostgreSQL), or None; its account and cardholder come in the same statement (a
    posting, a reversal and their messages need both), unlocked: only the payment's row is
    locked (FOR UPDATE OF)."""
    (name, value), = key.items()
    query = _locked_query(name, db.session.get_bind().dialect.name == "postgresql")
    return db.session.scalars(query, {"key": value}).unique().one_or_none()


@cache
def _locked_query(name: str, postgres: bool):
    """`find_locked`'s statement, built once: SQLAlchemy then finds it compiled in its cache
    without generating its key again (joined loads make the key costly)."""
    query = (select(Payment).where(getattr(Payment, name) == bindparam("key"))
             .options(joinedload(Payment.account, innerjoin=True)
                      .joinedload(Account.cardholder, innerjoin=True))
             .execution_options(populate_existing=True))
    return query.with_for_update(of=Payment) if postgres else query


_ENTRIES = insert(LedgerEntry.__table__)


def posting_date(account, succeeded_at: datetime | None = None) -> date:
    """The cardholder's calendar day on which the provider reported success (else now): a
    payment at 23:30 in Shanghai whose webhook arrives after midnight counts for that day.
    Never later than the cardholder's today."""
    return posting_day(account.cardholder.timezone, today_for(account), succeeded_at)


def posting_day(timezone: str, today: date, succeeded_at: datetime | None) -> date:
    """`posting_date` from the cardholder's time zone and today there."""
    if succeeded_at is None:
        return today
    return min(today, local_date(as_aware(succeeded_at), timezone))


def post_success(payment: Payment, succeeded_at: datetime | None = None) -> bool:
    """Post a payment the provider reported as succeeded: ledger entries (kind payment, one per
    component, fees then interest then principal, any excess as a principal credit), the plan's
    instalments (through the `payment_posted` event), a receipt number, an audit event and a
    confirmation in the outbox.

    Call with the payment locked (`lock_payment`). Returns False, changing nothing, if it was
    already posted. Flushes; the caller commits. The entries take effect on `posting_date`
    of `succeeded_at` (the provider's success time; default: now).
    """
    if payment.status in (S.SUCCEEDED, S.REFUNDED):
        return False
    before = payment.status.value
    PAYMENT_MACHINE.check(payment.status, S.SUCCEEDED)
    lock_loaded_account(payment.account)
    account = payment.account
    paid_on = posting_date(account, succeeded_at)
    balance = balance_of(account, paid_on)
    toward = _toward_minimum(payment, paid_on, balance)  # before this payment's entries
    split, parts = price(payment.amount, balance)
    # One posting moment for the payment and its entries: exports select both by it.
    now = utcnow()
    # Written at once, on the table (no ORM objects: nothing in the request reads them back
    # from the session, and the unit of work cost more than the INSERT).
    db.session.execute(_ENTRIES, entry_rows(account.id, payment.id, payment.currency, parts,
                                            paid_on, now))
    # The plans are told first, then the payment's row is changed once, what the plans applied
    # included: one UPDATE, not two. The listeners read the ledger, plans and nightly state,
    # never the payment's row.
    plan_application = _announce(payment, payment.amount, paid_on)
    payment.allocation = split
    payment.toward_minimum = toward
    payment.paid_on = paid_on
    payment.posted_at = now
    payment.status = S.SUCCEEDED
    payment.failure_code = payment.failure_message = None
    payment.receipt_number = receipt_number(paid_on, payment.id)
    payment.plan_application = plan_application
    record("payment.posted", subject=payment, before={"status": before},
           after=posted_after(payment.amount, split, payment.plan_application,
                              payment.receipt_number))
    notify.payment_confirmed(payment)
    db.session.flush()
    return True


def price(amount: int, balance) -> tuple[dict, list[tuple[Component, str, int]]]:
    """How a payment of `amount` splits over `balance` (fees, interest, principal, any excess
    unapplied), and the ledger parts that split makes: [(component, tag, amount)]. The one
    pricing rule of a posting, for `post_success` and the fast path (`fast_posting`)."""
    split = payment_split(amount, {"fee": int(balance.fees), "interest": int(balance.interest),
                                   "principal": int(balance.principal)})
    parts = [(Component(c), c, part) for c, part in split.items() if c != UNAPPLIED and part]
    if split[UNAPPLIED]:
        parts.append((Component.PRINCIPAL, UNAPPLIED, split[UNAPPLIED]))
    return split, parts


def entry_rows(account_id: int, payment_id: int, currency: str, parts, paid_on: date,
               now: datetime) -> list[dict]:
    """The posting's ledger entries as rows for `_ENTRIES` (one per part of `price`)."""
    return [dict(account_id=account_id, kind=EntryKind.PAYMENT, component=component,
                 amount=-amount, currency=currency, effective_date=paid_on,
                 source_ref=f"payment:{payment_id}:{tag}", reversal_of_id=None, posted_at=now)
            for component, tag, amount in parts]


def receipt_number(paid_on: date, payment_id: int) -> str:
    return f"R{paid_on:%Y%m%d}-{payment_id:07d}"


def posted_after(amount: int, split: dict, plan_application, receipt: str) -> dict:
    """The `payment.posted` audit event's after-state."""
    return {"status": "succeeded", "amount": amount, "allocation": split,
            "plan_application": plan_application, "receipt": receipt}


def toward_minimum(amount: int, basis) -> int:
    """What of a payment of `amount` goes to the minimum, given the balance it is judged on."""
    return min(amount, int(basis.overdue) + int(basis.next_due))


def _toward_minimum(payment: Payment, paid_on: date, balance) -> int:
    """What of `payment` goes to the statement's minimum (overdue or next due): what is left of
    it after every payment posted before this one, including those dated after it (a late
    webhook dates a payment back past one posted meanwhile): the balance as of the latest such
    date, else as of `paid_on`. So the account's payments never count more towards the minimum
    than it was, whatever order they are posted in."""
    latest = db.session.scalar(_latest_paid_on(), {"account_id": payment.account_id,
                                                   "payment_id": payment.id})
    basis = balance if latest is None or latest <= paid_on else balance_of(payment.account, latest)
    return toward_minimum(payment.amount, basis)


@cache
def _latest_paid_on():
    """`_toward_minimum`'s statement, built once."""
    return select(func.max(Payment.paid_on)).where(
        Payment.account_id == bindparam("account_id"), Payment.id != bindparam("payment_id"),
        Payment.status.in_([S.SUCCEEDED, S.REFUNDED]))


def _announce(payment: Payment, amount: int, paid_on: date) -> list[list[int]]:
    """Emit payment_posted; listeners (plans) apply the money and say what they applied,
    [[instalment_id, amount]] in the order applied, which the payment keeps so that a reversal
    can unwind it in the opposite order. "Another amount" pays a plan ahead (docs/money.md)."""
    ahead = payment.choice == PaymentChoice.OTHER
    applied = emit(payment_posted, PaymentPosted(payment.account, payment.id, amount, paid_on,
                                                 ahead=ahead))
    return [pair for result in applied for pair in result]


def _reversible_entries(payment: Payment) -> list[tuple[LedgerEntry, int]]:
    """Original payment entries with what is still not reversed, in reversal order."""
    originals = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == payment.account_id, LedgerEntry.kind == EntryKind.PAYMENT,
        LedgerEntry.source_ref.like(f"payment:{payment.id}:%"))).all()
    reversed_sums = dict(db.session.execute(
        select(LedgerEntry.reversal_of_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.reversal_of_id.in_([e.id for e in originals]))
        .group_by(LedgerEntry.reversal_of_id)).all()) if originals else {}
    rank = {tag: i for i, tag in enumerate(REVERSAL_ORDER)}
    originals.sort(key=lambda e: rank[e.source_ref.rsplit(":", 1)[1]])
    return [(e, -e.amount - int(reversed_sums.get(e.id, 0))) for e in originals]


def _beyond_first(payment: Payment, taken: list[tuple[LedgerEntry, int]]):
    """Split the reversal's parts [(original entry, amount)] into what takes back money paid
    beyond the statement's minimum (first) and what takes back the minimum itself:
    [(entry, amount, beyond)]. Only the latter is owed again. The issuer's minimum due stops
    at zero, so once it has applied payments beyond the minimum it cannot say by how much; the
    portal knows it for the account as a whole (one payment may pay the minimum and a later
    one go beyond it): what its payments paid beyond the minimum, less what reversals took
    back of it (net of reinstatements, whose entries carry the same mark)."""
    account_id = payment.account_id
    paid_beyond = int(db.session.scalar(select(func.coalesce(
        func.sum(Payment.amount - Payment.toward_minimum), 0)).where(
        Payment.account_id == account_id, Payment.toward_minimum.is_not(None),
        Payment.status.in_([S.SUCCEEDED, S.REFUNDED]))))
    taken_beyond = int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                       .where(LedgerEntry.account_id == account_id,
                              LedgerEntry.kind == EntryKind.REVERSAL,
                              LedgerEntry.source_ref.like(f"%{BEYOND_MINIMUM}"))))
    left = max(0, paid_beyond - taken_beyond)
    pieces = []
    for entry, part in taken:
        beyond = min(part, left)
        left -= beyond
        pieces += [(entry, amount, flag) for amount, flag in ((beyond, True), (part - beyond, False))
                   if amount]
    return pieces


def post_reversal(payment: Payment, amount: int, *, kind: ReversalKind, external_ref: str,
                  reason: str, staff_id: int | None = None) -> PaymentReversal | None:
    """Reverse up to `amount` of a posted payment: reversal entries that reference the original
    entries (last-allocated first), the plan's instalments reopened (newest first, through the
    `payment_reversed` event), an audit
    event. Returns None, changing nothing, if `external_ref` was already applied or nothing is
    left to reverse. Call with the payment locked; flushes, the caller commits."""
    existing = db.session.scalar(select(PaymentReversal).where(
        PaymentReversal.external_ref == external_ref))
    if existing is not None or payment.status not in (S.SUCCEEDED, S.REFUNDED):
        return None
    amount = min(amount, payment.amount - payment.refunded_amount)
    if amount <= 0:
        return None
    lock_loaded_account(payment.account)
    reversible = _reversible_entries(payment)
    taken = reversal_split(amount, [(entry, still) for entry, still in reversible])
    already = [pair for r in payment.reversals if r.reinstated_at is None
               for pair in (r.plan_reversal or [])]
    unwind = plan_unwind(amount, payment.plan_application or [], already)
    now = utcnow()  # the reversal and its entries share one moment (journal export windows)
    reversal = PaymentReversal(payment=payment, kind=kind, amount=amount, reason=reason[:500],
                               external_ref=external_ref, staff_id=staff_id, plan_reversal=unwind,
                               created_at=now)
    db.session.add(reversal)
    db.session.flush()
    today = today_for(payment.account)
    for entry, part, beyond in _beyond_first(payment, taken):
        db.session.add(LedgerEntry(account_id=payment.account_id, kind=EntryKind.REVERSAL,
                                   component=entry.component, amount=part,
                                   currency=payment.currency, effective_date=today,
                                   source_ref=f"reversal:{reversal.id}:{entry.id}"
                                              + (BEYOND_MINIMUM if beyond else ""),
                                   reversal_of_id=entry.id, posted_at=now))
    emit(payment_reversed, PaymentReversed(payment.account, payment.id, amount, unwind))
    before = {"status": payment.status.value, "refunded_amount": payment.refunded_amount}
    payment.refunded_amount += amount
    if payment.refunded_amount == payment.amount:
        payment.status = PAYMENT_MACHINE.check(payment.status, S.REFUNDED)
    record(f"payment.{kind.value}", subject=payment, before=before,
           after={"status": payment.status.value, "refunded_amount": payment.refunded_amount,
                  "reversal_id": reversal.id, "reason": reason, "plan_reversal": unwind})
    notify.payment_reversed(payment, reversal)
    db.session.flush()
    return reversal


def reinstate_reversal(payment: Payment, external_ref: str, reason: str) -> bool:
    """Post again what a reversal took back (a chargeback the issuer won): entries opposite to
    the reversal's, each referencing the payment entry it restores, the plan's instalments
    paid again, an audit event. Returns False, changing nothing, if there is no such reversal
    or it was reinstated already. Call with the payment locked; flushes, the caller commits."""
    reversal = db.session.scalar(select(PaymentReversal).where(
        PaymentReversal.external_ref == external_ref, PaymentReversal.payment_id == payment.id))
    if reversal is None or reversal.reinstated_at is not None:
        return False
    lock_loaded_account(payment.account)
    taken = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == payment.account_id,
        LedgerEntry.source_ref.like(f"reversal:{reversal.id}:%")).order_by(LedgerEntry.id)).all()
    today = today_for(payment.account)
    for entry in taken:
        beyond = BEYOND_MINIMUM if entry.source_ref.endswith(BEYOND_MINIMUM) else ""
        db.session.add(LedgerEntry(account_id=payment.account_id, kind=EntryKind.REVERSAL,
                                   component=entry.component, amount=-entry.amount,
                                   currency=payment.currency, effective_date=today,
                                   source_ref=f"reinstated:{reversal.id}:{entry.reversal_of_id}"
                                              + beyond,
                                   reversal_of_id=entry.reversal_of_id))
    # Announced as a new payment of the same amount: plans pay the instalments again.
    reapplied = _announce(payment, reversal.amount, today)
    before = {"status": payment.status.value, "refunded_amount": payment.refunded_amount}
    reversal.reinstated_at = utcnow()
    payment.refunded_amount -= reversal.amount
    if payment.status == S.REFUNDED:
        payment.status = PAYMENT_MACHINE.check(payment.status, S.SUCCEEDED)
    record("payment.chargeback_reinstated", subject=payment, before=before,
           after={"status": payment.status.value, "refunded_amount": payment.refunded_amount,
                  "reversal_id": reversal.id, "reason": reason, "plan_application": reapplied})
    db.session.flush()
    return True
