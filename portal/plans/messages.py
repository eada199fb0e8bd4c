"""Whole translated sentences for plan reasons, errors and statuses."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from portal.core.filters import long_date, money
from portal.plans.agreement import kind_name
from portal.plans.offers import Reason


def reason_text(reason: Reason, currency: str) -> str:
    p = reason.params
    code = reason.code
    if code == "type_not_allowed":
        return _("%(kind)s is not available for your account.", kind=kind_name(p["kind"]))
    if code == "frequency_not_allowed":
        return {"weekly": _("Weekly payments are not available for your account."),
                "fortnightly": _("Payments every two weeks are not available for your account."),
                }.get(p["frequency"], _("Monthly payments are not available for your account."))
    if code == "too_few_instalments":
        return _("A plan needs at least %(min)s payments.", min=p["min"])
    if code == "too_many_instalments":
        return _("A plan can have at most %(max)s payments.", max=p["max"])
    if code == "instalment_too_small":
        return _("Each payment must be at least %(amount)s.", amount=money(p["min"], currency))
    if code == "down_payment_too_small":
        return _("The first payment up front must be at least %(amount)s.",
                 amount=money(p["min"], currency))
    if code == "first_date_in_past":
        return _("The first payment date cannot be in the past.")
    if code == "first_date_too_late":
        return _("The first payment must be on or before %(date)s.", date=long_date(p["latest"]))
    if code == "deferral_too_long":
        return _("You can put off payment until %(date)s at the latest.",
                 date=long_date(p["latest"]))
    if code == "discount_too_large":
        return _("The discount can be at most %(percent)s%%.", percent=p["max"])
    if code == "fees_waiver_not_allowed":
        return _("Fees cannot be waived for this account.")
    if code == "interest_rate_too_low":
        return _("Interest cannot be reduced below %(rate)s%% a year.", rate=p["min"])
    if code == "total_too_large":
        return _("Plans above %(amount)s need a review.", amount=money(p["max"], currency))
    if code == "cooling_off":
        return _("Because an earlier plan ended unpaid, a new plan can be set up from %(date)s.",
                 date=long_date(p["until"]))
    if code == "plans_limit":
        return _("You have already had %(max)s plans in the last 12 months, the most we can agree.",
                 max=p["max"])
    if code == "nothing_owed":
        return _("There is nothing to repay on this account.")
    return _("The amount owed is too small for that many payments.")


def review_reason_text(reason: Reason, currency: str) -> str:
    """Why a plan that would otherwise be agreed at once needs a review by our team (a
    reason from the auto-approval envelope), as one sentence for the cardholder."""
    p = reason.params
    if reason.code == "plans_limit":
        return ngettext(
            "You have had %(num)s plan in the last 12 months, counting one you cancelled, so a "
            "new plan needs a review by our team before it starts.",
            "You have had %(num)s plans in the last 12 months, counting any you cancelled, so a "
            "new plan needs a review by our team before it starts.",
            p.get("count", p["max"]))
    if reason.code == "cooling_off":
        return _("Because an earlier plan ended unpaid, a new plan before %(date)s needs a "
                 "review by our team.", date=long_date(p["until"]))
    if reason.code == "too_many_instalments":
        return _("Plans with more than %(max)s payments need a review by our team.", max=p["max"])
    if reason.code == "total_too_large":
        return reason_text(reason, currency)
    return _("These terms are outside what we can agree straight away, so our team reviews "
             "them.")


def repriced_text(plan, currency: str) -> list[str]:
    """Why a plan's terms were worked out again from a later day's balance, as sentences for
    the cardholder (empty when they were not)."""
    r = plan.repriced
    if not r:
        return []
    lines = [_("Your balance changed after you agreed to these terms: it was %(before)s and is "
               "%(now)s now. So we have worked out the plan again from today's balance.",
               before=money(r["balance_before"], currency), now=money(r["balance_now"], currency))]
    if r.get("paid", 0) > 0:
        lines.append(_("A payment of %(amount)s was received.",
                       amount=money(r["paid"], currency)))
    if r.get("interest", 0) > 0:
        lines.append(_("Interest of %(amount)s was added.", amount=money(r["interest"], currency)))
    if r.get("fees", 0) > 0:
        lines.append(_("Fees of %(amount)s were added.", amount=money(r["fees"], currency)))
    lines.append(_("The total to repay was %(before)s and is now %(now)s.",
                   before=money(r["total_before"], currency), now=money(r["total_now"], currency)))
    return lines


ERRORS = {
    "refused": _l("Your balance has changed and these terms are no longer possible. Please "
                  "choose a new plan."),
    "terms_changed": _l("The terms changed while you were reading them. Please read the "
                        "updated terms and agree again."),
    "already_active": _l("This account already has an active plan."),
    "proposal_pending": _l("You already have a proposal waiting for our reply."),
    "first_date_passed": _l("The first payment date has passed. Please choose a new plan."),
    "beyond_authority": _l("This plan is beyond your approval authority. A collections manager "
                           "must decide it."),
    "not_in_review": _l("This proposal is no longer waiting for review."),
    "not_countered": _l("This offer is no longer open."),
    "plan_changed": _l("This plan changed a moment ago. Please look at it again."),
    "reason_required": _l("Give the reason the cardholder will see."),
}

STATUS = {
    "proposed": _l("Proposed"), "in_review": _l("Waiting for our review"),
    "countered": _l("New terms offered"), "active": _l("Active"),
    "completed": _l("Completed"), "broken": _l("Ended unpaid"),
    "cancelled": _l("Cancelled"), "rejected": _l("Not accepted"),
}
