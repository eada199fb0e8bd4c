"""Whole translated sentences for plan changes: why one is refused, what each one did."""
from __future__ import annotations

from flask_babel import gettext as _, ngettext

from portal.plans.servicing_rules import ServicingPolicy


def refusal_text(code: str, policy: ServicingPolicy | None) -> str:
    """Why the change asked for cannot be made, as one sentence for the cardholder."""
    p = policy
    if code == "not_active":
        return _("Only an active plan can be changed.")
    if code == "not_allowed":
        return _("This change is not available for your plan.")
    if code == "limit_reached":
        return _("You have already made the changes of this kind that your plan allows.")
    if code == "already_delayed":
        return _("This payment has already been delayed once. Each payment can be delayed "
                 "only once.")
    if code == "no_such_instalment":
        return _("Choose one of the payments still to make.")
    if code == "already_paid":
        return _("This payment is already made, so it cannot be changed.")
    if code == "partly_paid":
        return _("Part of this payment is already made, so it cannot be skipped. You can "
                 "delay it instead.")
    if code == "nothing_to_move":
        return _("There are no payments still to come whose date can be changed.")
    if code == "date_past":
        return _("Choose a date from today on, after the payment's current date.")
    if code == "date_unchanged":
        return _("Choose a date different from the current one.")
    if code == "date_too_far" and p is not None:
        return ngettext("The payment date can move by at most %(num)s day.",
                        "The payment date can move by at most %(num)s days.",
                        p.date_change_max_days)
    if code == "delay_too_far" and p is not None:
        return ngettext("A payment can be delayed by at most %(num)s day.",
                        "A payment can be delayed by at most %(num)s days.", p.delay_max_days)
    if code == "date_after_next":
        return _("Choose a date before your next payment.")
    if code == "beyond_term" and p is not None:
        return ngettext("This change would make the plan last longer than %(num)s month.",
                        "This change would make the plan last longer than %(num)s months.",
                        p.max_term_months)
    return _("This change is not available for your plan.")
