"""Paying a plan ahead from the pay page: paying it off, or "another amount" above what is
due now, which pays the last instalments first (docs/money.md). The cardholder sees the
schedule that the payment leaves before paying; the payment itself is an ordinary one
(`services.open_payment`, choice "other"), posted and applied like any other."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.extensions import db
from portal.payments.models import Payment, PaymentChoice
from portal.payments.plan_link import PlanAhead
from portal.payments.services import PaymentOptions, PaymentRefused

PAYOFF = "payoff"  # a choice of the pay page only: paid as "other" for what the plan has left


def resolve(choice: str, other_amount: int | None, ahead: PlanAhead | None,
            options: PaymentOptions) -> tuple[str, int | None]:
    """The payment choice and amount behind the page's choice: paying off is "other" for
    what is left of the plan (never more than is owed). Raises PaymentRefused when there is
    no plan to pay off, or nothing is owed."""
    if choice != PAYOFF:
        return choice, other_amount
    if ahead is None:
        raise PaymentRefused("choice", _l("Please choose what to pay."))
    payoff = ahead.payoff(options.full)
    if payoff <= 0:
        raise PaymentRefused("nothing_due", _l("There is nothing to pay for this choice."))
    return PaymentChoice.OTHER.value, payoff


def to_preview(choice: str, amount: int | None, ahead: PlanAhead | None,
               options: PaymentOptions, previewed: str | None) -> bool:
    """True when "another amount" (the page's choice) would pay the plan ahead and the
    cardholder has not yet seen the schedule it leaves for exactly this amount. Paying off
    needs no second look: its choice already says that nothing is left."""
    return (ahead is not None and choice == PaymentChoice.OTHER.value and amount is not None
            and ahead.due < amount <= options.full and previewed != str(amount))


def record_ahead(payment: Payment, ahead: PlanAhead | None, payoff: bool) -> None:
    """Audit what the cardholder was shown: the plan's schedule after this payment (once: a
    second submit of the same page returns the same payment)."""
    if ahead is None or payment.amount <= ahead.due:
        return
    if db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "payment.plan_ahead", AuditEvent.subject_type == "payment",
            AuditEvent.subject_id == str(payment.id))) is not None:
        return
    record("payment.plan_ahead", subject=payment,
           after={"plan_id": ahead.plan_id, "payoff": payoff, "amount": payment.amount,
                  "due_now": ahead.due, "left_before": ahead.left,
                  "schedule_after": [[inst.seq, still] for inst, still in
                                     ahead.after(payment.amount)]})
