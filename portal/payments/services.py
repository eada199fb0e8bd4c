"""Starting a payment and following the provider's word about it.

The idempotency key is bound to a signed nonce issued with the payment page: every submit of
that page (double click, refresh, back button, retry after a time-out) finds the same payment row
and sends the same key to the provider, so there is at most one charge and one posting.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale, gettext, lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Account
from portal.audit.services import record
from portal.balances.services import balance_of, today_for
from portal.core.filters import local_time
from portal.extensions import db
from portal.payments import notify, plan_link
from portal.domain.money import format_money
from portal.payments.gateway import Intent, ProviderRefused, get_gateway
from portal.payments.models import Payment, PaymentChoice
from portal.payments.policy import minimum_other_amount, payments_policy, wallets_for
from portal.payments.posting import lock_payment, post_success
from portal.payments.states import MAY_TAKE_MONEY, OPEN_STATES, PAYMENT_MACHINE, PaymentStatus

S = PaymentStatus
_PAYMENTS_LOCK = 7262004  # pg_advisory_xact_lock space; plans use 7262003


class PaymentRefused(Exception):
    """A payment request we will not send to the provider; `message` is for the cardholder."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PaymentOptions:
    currency: str
    overdue: int
    full: int
    instalment: int | None
    instalment_due_date: object | None
    minimum_other: int
    wallets: list


def payment_options(account: Account) -> PaymentOptions:
    """What this account can pay now: the amounts behind each choice, and the bounds."""
    balance = balance_of(account)
    policy = payments_policy(account.policy_profile, balance.as_of)
    instalment = plan_link.next_instalment(account)
    # What is missed plus what falls due now (else the next instalment), not just the oldest.
    due = plan_link.due_now_for(account, balance.as_of) if instalment is not None else None
    full = max(0, int(balance.total))  # int(): PostgreSQL sums BIGINTs as NUMERIC
    return PaymentOptions(account.currency, int(balance.overdue), full,
                          capped_to_owed(due, full) or None,
                          instalment.due_date if instalment is not None else None,
                          minimum_other_amount(policy, account.currency),
                          wallets_for(policy, account.currency))


def capped_to_owed(asked: int | None, owed: int) -> int | None:
    """What a plan's instalment may take: never more than the account owes. A plan can ask
    more than is owed once the issuer lowered the balance (a payment made at the bank, its
    own credit); taking the instalment in full would then overpay. The pay page's
    instalment choice and autopay both price through here."""
    return None if asked is None else min(asked, max(0, owed))


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="payment-nonce")


def issue_nonce(account: Account) -> str:
    """A fresh, signed token for one payment page; it becomes the payment's idempotency key."""
    return _serializer().dumps({"a": account.id, "n": secrets.token_urlsafe(16)})


def _key_from_nonce(account: Account, nonce: str) -> str:
    try:
        data = _serializer().loads(nonce or "")
    except BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("a") != account.id:
        raise PaymentRefused("tampered", _l("This payment page has expired. Please start again."))
    return f"pay:{account.id}:{data['n']}"


def _amount_for(account, options: PaymentOptions, choice: PaymentChoice, other: int | None) -> int:
    if choice == PaymentChoice.OVERDUE:
        amount = options.overdue
    elif choice == PaymentChoice.INSTALMENT:
        amount = options.instalment or 0
    elif choice == PaymentChoice.FULL:
        amount = options.full
    elif choice == PaymentChoice.OTHER:
        amount = other or 0
        low = min(options.minimum_other, options.full)
        if amount < low or amount > options.full:
            raise PaymentRefused("out_of_bounds", _l("Please enter an amount within the limits shown."))
    else:
        raise PaymentRefused("choice", _l("Please choose what to pay."))
    if amount <= 0:
        raise PaymentRefused("nothing_due", _l("There is nothing to pay for this choice."))
    return amount


def open_payment(account: Account, *, choice: str, other_amount: int | None, currency: str,
                 nonce: str) -> Payment:
    """The payment row for this page's nonce, created if new (flushed, not committed). A second
    submit with the same nonce returns the first row unchanged. Raises PaymentRefused, and
    ProviderUnavailable when a declined payment could not be stopped at the provider (nothing
    is opened then)."""
    key = _key_from_nonce(account, nonce)
    # Lock first: a second submit of the same page waiting here then finds the first one's row.
    lock_account_payments(account)
    existing = db.session.scalar(select(Payment).where(Payment.idempotency_key == key))
    if existing is not None:
        return existing
    if currency != account.currency:
        raise PaymentRefused("currency", _l("Payments for this account are in its own currency."))
    try:
        choice = PaymentChoice(choice)
    except ValueError:
        raise PaymentRefused("choice", _l("Please choose what to pay.")) from None
    if choice == PaymentChoice.AUTOPAY:
        raise PaymentRefused("choice", _l("Please choose what to pay."))
    supersede_declined(account)  # before the amounts: one may turn out to have succeeded
    options = payment_options(account)
    amount = _amount_for(account, options, choice, other_amount)
    flying = in_flight(account)
    same_page = next((p for p in flying if p.idempotency_key == key), None)
    if same_page is not None:  # the same page submitted twice at once (SQLite has no lock)
        return same_page
    _refuse_if_covered(flying, options, choice, amount)
    payment = Payment(account_id=account.id, account=account, choice=choice, amount=amount,
                      currency=account.currency, provider=get_gateway().name, idempotency_key=key)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:  # the same nonce submitted twice at once: the other request won
        return db.session.scalars(select(Payment).where(Payment.idempotency_key == key)).one()
    record("payment.created", subject=payment,
           after={"amount": amount, "currency": payment.currency, "choice": choice.value})
    return payment


def lock_account_payments(account: Account) -> None:
    """Serialise the opening of payments on one account until the transaction ends (autopay
    takes it too): of two tabs submitting at once, the second sees the first one's payment.
    A PostgreSQL advisory lock; SQLite has a single writer anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": _PAYMENTS_LOCK, "key": account.id})


def in_flight(account: Account) -> list[Payment]:
    """The account's payments that may still take money (oldest first): the open ones and the
    declined ones whose intent the cardholder may still confirm with another card."""
    return list(db.session.scalars(select(Payment).where(
        Payment.account_id == account.id, Payment.status.in_(MAY_TAKE_MONEY),
        Payment.provider_ref.is_not(None) | Payment.status.in_(OPEN_STATES))
        .order_by(Payment.id)))


def supersede_declined(account: Account) -> None:
    """Before a new payment is opened (by the cardholder or autopay), under the account's
    payment lock: stop every declined payment at the provider, so that no old tab can still
    confirm it with another card beside the new one. One the provider reports as succeeded or
    processing meanwhile is followed instead (posted, or left in flight). Raises
    ProviderUnavailable (nothing changed here)."""
    # Lazy: portal.payments.cancel imports this module (apply_intent).
    from portal.payments.cancel import cancel_open_payment

    for payment in in_flight(account):
        if payment.status == S.FAILED:
            cancel_open_payment(payment, actor=("system", "payments"), event="payment.superseded")


def _refuse_if_covered(flying: list[Payment], options: PaymentOptions, choice: PaymentChoice,
                       amount: int) -> None:
    """One amount owed is paid once: refuse a payment that, with those in flight, would pay
    more than the balance, or pay an overdue amount or instalment they already cover."""
    if not flying:
        return
    pending = sum(p.amount for p in flying)
    covered = choice in (PaymentChoice.OVERDUE, PaymentChoice.INSTALMENT) and pending >= amount
    if covered or amount + pending > options.full:
        first = flying[0]
        raise PaymentRefused("in_flight", gettext(
            "Your payment of %(amount)s started on %(started)s has not finished yet, so this one "
            "could pay the same money twice. Finish or cancel that payment first.",
            amount=format_money(first.amount, first.currency, str(get_locale())),
            started=local_time(first.created_at)))


def more_than_owed(payment: Payment) -> int | None:
    """What is still owed when `payment` would now pay more than that (the balance less the
    other payments in flight), else None: the balance changed since the payment was opened
    (another payment posted, a credit), and charging it as it stands would overpay."""
    owed = max(0, int(balance_of(payment.account).total))
    owed -= sum(p.amount for p in in_flight(payment.account) if p.id != payment.id)
    return max(0, owed) if payment.amount > owed else None


def metadata_for(payment: Payment) -> dict:
    return {"payment_id": str(payment.id), "account": payment.account.account_number}


def ensure_intent(payment: Payment) -> Intent:
    """Ask the provider for this payment's intent, always with the payment's idempotency key.
    Raises ProviderUnavailable (nothing known to have happened; safe to repeat)."""
    gateway = get_gateway()
    if payment.provider_ref:
        return gateway.retrieve_payment_intent(payment.provider_ref)
    policy = payments_policy(payment.account.policy_profile, today_for(payment.account))
    intent = gateway.create_payment_intent(
        amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
        metadata=metadata_for(payment), wallets=wallets_for(policy, payment.currency))
    payment.provider_ref = intent.ref
    db.session.flush()
    return intent


def _target(intent: Intent) -> PaymentStatus | None:
    status = intent.status
    if status == "succeeded":
        return S.SUCCEEDED
    if status == "processing":
        return S.PROCESSING
    if status == "requires_action":
        return S.REQUIRES_ACTION
    if status == "canceled":
        return S.CANCELED
    if status == "requires_payment_method" and intent.failure_code:
        return S.FAILED
    return None


def apply_intent(payment: Payment, intent: Intent, *, locked: bool = False) -> Payment:
    """Bring the payment in line with what the provider says, under a row lock (`locked`: the
    caller loaded it with `find_locked` or `lock_payment`). Posts on success (once); an
    out-of-date or repeated report changes nothing. Flushes."""
    if not locked:
        payment = lock_payment(payment.id)
    if payment.provider_ref is None and intent.ref:
        payment.provider_ref = intent.ref
    target = _target(intent)
    if target is None or target == payment.status or not PAYMENT_MACHINE.can(payment.status, target):
        if target == S.FAILED and payment.status == S.FAILED:
            payment.failure_code, payment.failure_message = intent.failure_code, intent.failure_message
        return payment
    if target == S.SUCCEEDED:
        if intent.amount is not None and intent.amount != payment.amount:
            record("payment.amount_mismatch", subject=payment,
                   after={"provider_amount": intent.amount, "amount": payment.amount})
            return payment
        if payment.status == S.CANCELED:  # received after we gave up: post it all the same
            record("payment.succeeded_after_cancel", subject=payment,
                   before={"status": "canceled"},
                   after={"status": "succeeded", "provider_ref": payment.provider_ref})
        post_success(payment, succeeded_at=intent.succeeded_at)
        return payment
    before = payment.status.value
    payment.status = target
    if target == S.FAILED:
        payment.failure_code, payment.failure_message = intent.failure_code, intent.failure_message
    record("payment.status", subject=payment, before={"status": before},
           after={"status": target.value, "failure_code": payment.failure_code})
    if payment.off_session and target == S.FAILED:
        # Lazy: portal.payments.autopay imports this module (apply_intent, fail_refused).
        from portal.payments.autopay import next_retry_date

        notify.autopay_declined(payment, next_retry_date(payment))
    elif payment.off_session and target == S.REQUIRES_ACTION:
        notify.autopay_needs_authentication(payment)
    db.session.flush()
    return payment


def refresh(payment: Payment) -> Payment:
    """Ask the provider about an unfinished payment and apply the answer. A provider that does not
    answer leaves the payment as it was (ProviderUnavailable propagates)."""
    if payment.provider_ref and (payment.status in OPEN_STATES or payment.status == S.FAILED):
        return apply_intent(payment, get_gateway().retrieve_payment_intent(payment.provider_ref))
    return payment


def fail_refused(payment: Payment, exc: ProviderRefused) -> Payment:
    """A provider refusal at creation: follow its intent if it sent one, else mark failed."""
    if exc.intent is not None:
        return apply_intent(payment, exc.intent)
    fake = Intent(ref=payment.provider_ref, status="requires_payment_method",
                  failure_code=exc.code or "declined", failure_message=exc.message)
    return apply_intent(payment, fake)


_REASONS = {
    "card_declined": _l("Your bank declined the card. No money was taken. You can try another card."),
    "insufficient_funds": _l("Your bank said there is not enough money available on the card. "
                             "No money was taken."),
    "payment_intent_authentication_failure": _l("The security check with your bank was not "
                                                "completed, so no money was taken."),
    "authentication_required": _l("Your bank needs you to confirm this payment."),
    "expired_card": _l("The card has expired. No money was taken."),
    "incorrect_cvc": _l("The security code was not correct. No money was taken."),
}


def failure_reason(payment: Payment):
    """The provider's reason in plain words for the cardholder."""
    return _REASONS.get(payment.failure_code or "",
                        _l("The payment did not go through and no money was taken. "
                           "Please try again or use another card."))
