"""Messages to the cardholder when a plan is agreed, answered, broken or completed."""
from __future__ import annotations

from flask_babel import force_locale, gettext as _

from portal.outbox.models import MessageKind
from portal.outbox.services import queue_to_cardholder
from portal.plans.models import Plan

MESSAGES = {
    "plan_confirmation": lambda: (_("Your repayment plan is agreed"), _(
        "Your repayment plan is agreed. You can see the schedule and download the agreement "
        "in the portal.")),
    "plan_countered": lambda: (_("We have replied to your plan proposal"), _(
        "We could not accept your plan as proposed and have offered different terms. Please "
        "look at them in the portal and accept or decline them.")),
    "plan_repriced": lambda: (_("Your plan's terms changed with your balance"), _(
        "Your balance changed after you agreed to your plan's terms, so we have worked them out "
        "again from today's balance. Please look at the new terms in the portal and accept or "
        "decline them.")),
    "plan_rejected": lambda: (_("Your plan proposal"), _(
        "We could not accept your plan proposal. The reason is shown in the portal.")),
    "plan_broken": lambda: (_("Your repayment plan has ended"), _(
        "A payment under your repayment plan is still unpaid after the grace period, so the "
        "plan has ended. Please sign in to see what happens next and your options.")),
    "plan_completed": lambda: (_("Your repayment plan is complete"), _(
        "Thank you: every payment under your repayment plan has been made.")),
}


# Contact rules per message (portal/contact): a broken plan is a collection message; replies
# to a proposal and the completion note are service messages; the confirmation answers the
# cardholder's own acceptance (or a reviewer's approval of their proposal) and goes at once.
KINDS = {"plan_broken": MessageKind.COLLECTION, "plan_countered": MessageKind.SERVICE,
         "plan_repriced": MessageKind.SERVICE,
         "plan_rejected": MessageKind.SERVICE, "plan_completed": MessageKind.SERVICE}


def notify(plan: Plan, purpose: str) -> None:
    """Queue the `purpose` message to the plan's cardholder, in their language (outbox; sent
    after the caller commits)."""
    holder = plan.account.cardholder
    with force_locale(holder.locale or "en"):
        subject, body = MESSAGES[purpose]()
    kind = KINDS.get(purpose, MessageKind.TRANSACTIONAL)
    queue_to_cardholder(holder, subject, body, purpose=purpose, kind=kind,
                        account_id=plan.account_id)
