"""Whole translated sentences for plan changes: why one is refused."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, ngettext

from portal.plans.servicing_rules import ServicingPolicy

NOT_AVAILABLE = _l("This change is not available for your plan.")
REFUSALS = {
    "not_active": _l("Only an active plan can be changed."),
    "not_allowed": NOT_AVAILABLE,
    "limit_reached": _l("You have already made the changes of this kind that your plan allows."),
    "already_delayed": _l("This payment has already been delayed once. Each payment can be "
                          "delayed only once."),
    "no_such_instalment": _l("Choose one of the payments still to make."),
    "already_paid": _l("This payment is already made, so it cannot be changed."),
    "partly_paid": _l("Part of this payment is already made, so it cannot be skipped. You can "
                      "delay it instead."),
    "nothing_to_move": _l("There are no payments still to come whose date can be changed."),
    "date_past": _l("Choose a date from today on, after the payment's current date."),
    "date_unchanged": _l("Choose a date different from the current one."),
    "date_after_next": _l("Choose a date before your next payment."),
}


def refusal_text(code: str, policy: ServicingPolicy | None) -> str:
    """Why the change asked for cannot be made, as one sentence for the cardholder."""
    if policy is not None and code == "date_too_far":
        return ngettext("The payment date can move by at most %(num)s day.",
                        "The payment date can move by at most %(num)s days.",
                        policy.date_change_max_days)
    if policy is not None and code == "delay_too_far":
        return ngettext("A payment can be delayed by at most %(num)s day.",
                        "A payment can be delayed by at most %(num)s days.",
                        policy.delay_max_days)
    if policy is not None and code == "beyond_term":
        return ngettext("This change would make the plan last longer than %(num)s month.",
                        "This change would make the plan last longer than %(num)s months.",
                        policy.max_term_months)
    return str(REFUSALS.get(code, NOT_AVAILABLE))
