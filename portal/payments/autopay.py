"""Autopay: a saved card (SetupIntent) with explicit consent, and the daily job that charges
instalments due today, in the account's time zone, off-session, once."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account
from portal.audit.services import record
from portal.balances.services import balance_of, today_for
from portal.extensions import db
from portal.payments import plan_link
from portal.payments.gateway import ProviderRefused, ProviderUnavailable, get_gateway
from portal.payments.models import AutopayMandate, Payment, PaymentChoice
from portal.payments.policy import payments_policy, retry_days as policy_retry_days
from portal.payments.services import apply_intent, capped_to_owed, fail_refused, in_flight, \
    lock_account_payments, metadata_for, supersede_declined
from portal.timeutil import utcnow

CONSENT_TEXT = _l("I allow the card issuer to charge the card I save here for each instalment of "
                  "my repayment plan on its due date, for the amount of that instalment. I can "
                  "turn this off at any time on this page.")


def mandate_for(account: Account) -> AutopayMandate | None:
    return db.session.scalar(select(AutopayMandate).where(AutopayMandate.account_id == account.id))


def start_setup(account: Account, nonce: str):
    """A setup intent for saving a card (created with an idempotency key). Flushes."""
    gateway = get_gateway()
    mandate = mandate_for(account)
    if mandate is None:
        mandate = AutopayMandate(account_id=account.id, account=account, provider=gateway.name)
        db.session.add(mandate)
        db.session.flush()
    if not mandate.customer_ref or mandate.provider != gateway.name:
        mandate.provider = gateway.name
        mandate.customer_ref = gateway.create_customer(
            key=f"customer:{account.id}:{gateway.name}",
            metadata={"account": account.account_number})
    intent = gateway.create_setup_intent(customer=mandate.customer_ref,
                                         key=f"setup:{account.id}:{nonce}",
                                         metadata={"account": account.account_number})
    mandate.setup_ref = intent.ref  # the one setup intent completion will accept
    db.session.flush()
    return intent


def complete_setup(account: Account, setup_ref: str, consent_text: str) -> AutopayMandate | None:
    """Turn autopay on with the card saved by a succeeded setup intent; None if it did not
    succeed, or if it is not the intent `start_setup` last made for this account (a setup
    intent id typed into the return address, e.g. another cardholder's, is refused). Records
    the consent text shown and when it was given."""
    mandate = mandate_for(account)
    if mandate is None or not setup_ref or setup_ref != mandate.setup_ref:
        return None
    intent = get_gateway().retrieve_setup_intent(setup_ref)
    if (intent.status != "succeeded" or not intent.payment_method
            or intent.metadata.get("account") != account.account_number):
        return None
    before = {"active": mandate.active, "payment_method": mandate.payment_method_ref}
    mandate.payment_method_ref = intent.payment_method
    mandate.card_last4 = intent.card_last4
    mandate.consent_text = str(consent_text)
    mandate.consent_at = utcnow()
    mandate.active = True
    record("autopay.enabled", subject=mandate, before=before,
           after={"active": True, "payment_method": intent.payment_method,
                  "consent_text": mandate.consent_text})
    db.session.flush()
    return mandate


def set_active(account: Account, active: bool) -> AutopayMandate | None:
    """Turn autopay on (only with a saved card) or off."""
    mandate = mandate_for(account)
    if mandate is None or (active and not mandate.payment_method_ref) or mandate.active == active:
        return mandate
    mandate.active = active
    record("autopay.enabled" if active else "autopay.disabled", subject=mandate,
           before={"active": not active}, after={"active": active})
    db.session.flush()
    return mandate


def _retry_days_of(profile: str | None, day) -> list[int]:
    """Days after the due date on which autopay charges (0, then the retry days of the policy
    in force on `day`, the account's local date)."""
    return policy_retry_days(payments_policy(profile, day))


def next_retry_date(payment: Payment):
    """When a declined autopay charge will be tried again, or None after the last try."""
    instalment = plan_link.next_instalment(payment.account)
    if instalment is None or payment.paid_on is None and payment.created_at is None:
        return None
    today = today_for(payment.account)
    for days in _retry_days_of(payment.account.policy_profile, today):
        day = instalment.due_date + timedelta(days=days)
        if day > today:
            return day
    return None


def _charge(mandate: AutopayMandate, instalment, today) -> str:
    account = mandate.account
    key = f"autopay:{account.id}:{instalment.id}:{today.isoformat()}"
    if db.session.scalar(select(Payment.id).where(Payment.idempotency_key == key)):
        return "already"
    # Any payment still open on the account may yet pay this instalment (a manual payment
    # waiting for 3-D Secure, another tab's full balance): charging now could take the money
    # twice. Skip today; the next retry day looks again. The account's payment lock first, as
    # opening a manual payment takes it: one being opened right now is then seen (held until
    # this charge's row commits below).
    # A declined payment could still be confirmed with another card: it is stopped at the
    # provider first, as when the cardholder opens a new payment (one found to have succeeded
    # meanwhile is posted, and may have paid this instalment).
    lock_account_payments(account)
    try:
        supersede_declined(account)
    except ProviderUnavailable:
        db.session.rollback()
        return "unavailable"
    if in_flight(account):
        db.session.commit()  # ends the transaction (keeping any cancellation), releasing the lock
        return "busy"
    amount = capped_to_owed(plan_link.instalment_due(instalment), int(balance_of(account).total))
    if amount <= 0:
        db.session.commit()
        return "already"
    gateway = get_gateway()
    payment = Payment(account_id=account.id, account=account, choice=PaymentChoice.AUTOPAY,
                      amount=amount, currency=account.currency,
                      provider=gateway.name, idempotency_key=key, off_session=True,
                      instalment_id=instalment.id)
    try:
        db.session.add(payment)
        db.session.flush()
        record("payment.created", subject=payment, actor=("system", "autopay"),
               after={"amount": payment.amount, "instalment_id": instalment.id})
        db.session.commit()  # the row and its key exist before the provider hears of it
    except IntegrityError:  # another worker took this one
        db.session.rollback()
        return "already"
    try:
        intent = gateway.create_payment_intent(
            amount=payment.amount, currency=payment.currency, key=key,
            metadata=metadata_for(payment), customer=mandate.customer_ref,
            payment_method=mandate.payment_method_ref, off_session=True)
        apply_intent(payment, intent)
    except ProviderRefused as exc:
        fail_refused(payment, exc)
    except ProviderUnavailable:
        db.session.rollback()  # left open: reconciliation asks the provider later
        return "unavailable"
    db.session.commit()
    return payment.status.value


def _charge_due(instalment, today, retry_days) -> bool:
    """Whether autopay charges `instalment` on `today`: something is still due and today is
    its due date or one of the retry days after it."""
    if instalment is None or plan_link.instalment_due(instalment) <= 0:
        return False
    return (today - instalment.due_date).days in retry_days


def run_autopay(now=None) -> dict:
    """Charge every active mandate's instalment that is due today in the account's time zone (or
    on a retry day after a decline). Each instalment is charged at most once a day; the key makes
    a second run, or a second worker, a no-op. Finding what is due takes a fixed number of
    queries however many mandates there are."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    mandates = db.session.scalars(
        select(AutopayMandate).where(AutopayMandate.active.is_(True)).order_by(AutopayMandate.id)
        .options(joinedload(AutopayMandate.account).joinedload(Account.cardholder))).all()
    accounts = [m.account for m in mandates]
    instalments = plan_link.next_instalments(accounts)
    days_for: dict = {}  # (profile, local date) -> retry days: one policy read per pair

    def retry_days(account, today):
        pair = (account.policy_profile, today)
        if pair not in days_for:
            days_for[pair] = _retry_days_of(*pair)
        return days_for[pair]

    due = []
    for m in mandates:
        today = today_for(m.account, now)
        if _charge_due(instalments.get(m.account_id), today, retry_days(m.account, today)):
            due.append(m.id)
    for mandate_id in due:
        # Each charge commits and may wait on the provider: read this one again before
        # charging it, as the scan above may be out of date by now.
        mandate = db.session.get(AutopayMandate, mandate_id)
        account = mandate.account
        instalment = plan_link.next_instalment(account)
        today = today_for(account, now)
        if not _charge_due(instalment, today, retry_days(account, today)):
            continue
        outcome = _charge(mandate, instalment, today)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
