"""The risk editor's form, built from the profile document so every stage and consequence
in it gets its own labelled field; and the mapping between form, document and errors."""
from __future__ import annotations

import copy

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, \
    SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.core.forms import ungrouped
from portal.core.inputs import PortalForm
from portal.domain.money import MoneyError, parse_major, to_major
from portal.policy import section_fields
from portal.policy.rules import LANGUAGES

KIND_LABELS = {
    "late_fee": _l("Late fee"), "penalty_interest": _l("Penalty interest"),
    "credit_report": _l("Credit bureau report"), "card_block": _l("Card block"),
    "formal_notice": _l("Formal notice"), "legal_referral": _l("Legal referral"),
    "charge_off": _l("Charge-off"),
}
# The contact rules' default (portal.contact.rules.DEFAULT_DUE_SOON_DAYS; contact sits above
# policy, so it is not imported): shown for a version published before reminders existed.
REMINDER_DAYS_DEFAULT = 3
LANGUAGE_LABELS = {"en": _l("English"), "zh_Hans": _l("Simplified Chinese")}
MESSAGES = {
    "thresholds_not_increasing": _l("Each stage must start later than the one before it."),
    "rate_out_of_range": _l("Enter a rate between 0 and 100 percent."),
    "day_not_positive": _l("Enter a number of days greater than zero."),
    "day_count_invalid": _l("Choose 360 or 365 days."),
    "missing_text": _l("Enter the explanation in this language."),
    "missing_rule": _l("Each consequence must cite the rule it follows."),
    "fee_min_above_max": _l("The maximum fee must not be below the minimum fee."),
    "amount_negative": _l("Enter an amount of zero or more."),
    "effective_in_past": _l("Choose today or a later date."),
    "invalid": _l("Enter a valid value."),
    "reminder_days": _l("Enter a number of days from 0 to 30."),
    "missing": _l("This value is required."),
    "unknown_kind": _l("This consequence is not supported."),
    "day_too_large": _l("That is more days than a policy allows."),
    "amount_too_large": _l("Enter a smaller amount."),
    "frozen_plans_in_force": _l("Plans in force promise that penalty interest stays frozen "
                                "while they are kept: keep this ticked while such plans exist."),
}


class _Base(PortalForm):
    fee_fixed = StringField(_l("Fixed late fee (leave empty to use a percentage)"),
                            validators=[Optional()])
    fee_percent = StringField(_l("Late fee as a percentage of the minimum due"),
                              validators=[Optional()])
    fee_min = StringField(_l("Smallest late fee"), validators=[Optional()])
    fee_max = StringField(_l("Largest late fee (leave empty for no limit)"),
                          validators=[Optional()])
    fee_cap = BooleanField(_l("Never more than the minimum due"))
    rate = StringField(_l("Penalty interest, annual rate in percent"),
                       validators=[InputRequired()])
    day_count = SelectField(_l("Days in the interest year"), choices=["365", "360"])
    freeze = BooleanField(_l("No penalty interest while escalation is paused"))
    pay_by_days = IntegerField(_l("Days given to pay after a formal notice"),
                               validators=[InputRequired()])
    reminder_days = IntegerField(_l("Days before a plan payment or a promised payment falls "
                                    "due to remind the cardholder"),
                                 validators=[InputRequired()])
    effective_from = DateField(_l("Effective from"), validators=[InputRequired()])
    note = StringField(_l("Note for the version history"), validators=[Optional(),
                                                                        Length(max=500)])
    draft = HiddenField()  # the previewed draft's fingerprint (portal.policy.drafts)
    confirm = BooleanField(_l("I have read the effect above and want to publish this version"))
    preview = SubmitField(_l("Preview the effect"))
    publish = SubmitField(_l("Publish new version"))


def policy_form(document: dict, formdata=None):
    """A form with one field per stage threshold, consequence day and explanation text."""
    class PolicyForm(_Base):
        pass

    section_fields.add_fields(PolicyForm)

    for stage in document["stages"]:
        setattr(PolicyForm, f"stage_{stage['code']}", IntegerField(
            _l("Stage %(code)s starts at days late", code=stage["code"]),
            validators=[InputRequired()]))
    for kind in document["consequences"]:
        label = KIND_LABELS.get(kind, kind)
        setattr(PolicyForm, f"day_{kind}", IntegerField(
            _l("%(consequence)s: days late", consequence=label), validators=[InputRequired()]))
        for lang in LANGUAGES:
            setattr(PolicyForm, f"text_{kind}_{lang}", TextAreaField(
                _l("%(consequence)s: explanation in %(language)s", consequence=label,
                   language=LANGUAGE_LABELS[lang])))
    form = PolicyForm(formdata=formdata)
    form.stage_names = [f"stage_{s['code']}" for s in document["stages"]]
    form.kind_names = [(kind, f"day_{kind}", [f"text_{kind}_{lang}" for lang in LANGUAGES])
                       for kind in document["consequences"]]
    return form


def fill_form(form, document: dict, effective_from) -> None:
    """Prefill from a document (GET)."""
    currency = document["currency"]
    fee, pen = document["late_fee"], document["penalty_interest"]
    for stage in document["stages"]:
        form[f"stage_{stage['code']}"].data = stage["min_dpd"]
    form.fee_fixed.data = _major(fee.get("fixed"), currency)
    form.fee_percent.data = fee.get("percent_of_minimum_due") or ""
    form.fee_min.data = _major(fee.get("min"), currency)
    form.fee_max.data = _major(fee.get("max"), currency)
    form.fee_cap.data = bool(fee.get("cap_at_minimum_due"))
    form.rate.data = str(pen["annual_rate"])
    form.day_count.data = str(pen["day_count"])
    form.freeze.data = bool(pen.get("freeze_while_paused"))
    form.pay_by_days.data = document["notices"]["pay_by_days"]
    form.reminder_days.data = _reminders(document).get("due_soon_days", REMINDER_DAYS_DEFAULT)
    for kind, item in document["consequences"].items():
        form[f"day_{kind}"].data = item["dpd"]
        for lang in LANGUAGES:
            form[f"text_{kind}_{lang}"].data = item["explanation"].get(lang, "")
    section_fields.fill(form, document)
    form.effective_from.data = effective_from


def _reminders(document: dict) -> dict:
    """The contact section's reminder settings (portal.contact.rules), or none yet."""
    found = (document.get("contact") or {}).get("reminders")
    return found if isinstance(found, dict) else {}


def _major(amount, currency) -> str:
    return "" if amount is None else str(to_major(amount, currency))


def form_to_document(form, base: dict) -> tuple[dict, list[tuple[str, str]]]:
    """A new document: `base` (every section kept) with the form's values written in.

    Returns the document and (field, error code) pairs for amounts that do not parse.
    """
    doc = copy.deepcopy(base)
    currency = doc["currency"]
    problems = []

    def money(name, optional=True):
        text = (form[name].data or "").strip()
        if not text:
            return None if optional else 0
        try:
            return parse_major(ungrouped(text), currency)
        except MoneyError:
            problems.append((name, "invalid"))
            return None

    for stage in doc["stages"]:
        stage["min_dpd"] = form[f"stage_{stage['code']}"].data
    fee = doc["late_fee"]
    fee["fixed"] = money("fee_fixed")
    fee["percent_of_minimum_due"] = (form.fee_percent.data or "").strip() or None
    fee["min"] = money("fee_min", optional=False) or 0
    fee["max"] = money("fee_max")
    fee["cap_at_minimum_due"] = bool(form.fee_cap.data)
    pen = doc["penalty_interest"]
    pen["annual_rate"] = (form.rate.data or "").strip()
    pen["day_count"] = int(form.day_count.data)
    pen["freeze_while_paused"] = bool(form.freeze.data)
    doc["notices"]["pay_by_days"] = form.pay_by_days.data
    doc.setdefault("contact", {})["reminders"] = dict(_reminders(doc),
                                                      due_soon_days=form.reminder_days.data)
    for kind, item in doc["consequences"].items():
        item["dpd"] = form[f"day_{kind}"].data
        for lang in LANGUAGES:
            item["explanation"][lang] = (form[f"text_{kind}_{lang}"].data or "").strip()
    section_fields.write(form, doc, problems)
    return doc, problems


def field_for(path: str, form) -> str | None:
    """The form field a document error path belongs to (None: a form-level error)."""
    parts = path.split(".")
    if parts[0] == "stages":
        return form.stage_names[int(parts[1])] if len(parts) > 1 else form.stage_names[-1]
    if parts[0] == "late_fee":
        return {"fixed": "fee_fixed", "percent_of_minimum_due": "fee_percent", "min": "fee_min",
                "max": "fee_max"}.get(parts[-1])
    if parts[0] == "penalty_interest":
        return {"annual_rate": "rate", "day_count": "day_count",
                "freeze_while_paused": "freeze"}.get(parts[-1])
    if parts[0] == "consequences" and len(parts) >= 3:
        if parts[2] == "dpd":
            return f"day_{parts[1]}"
        if parts[2] == "explanation" and len(parts) == 4:
            return f"text_{parts[1]}_{parts[3]}"
    if parts[0] == "notices":
        return "pay_by_days"
    if parts[0] == "contact":
        return "reminder_days"
    if parts[0] == "effective_from":
        return "effective_from"
    return section_fields.field_for(parts)


def attach_errors(form, errors) -> None:
    """Put each validation error next to its field (or at the top of the form)."""
    for path, code in errors:
        message = MESSAGES.get(code, MESSAGES["invalid"])
        name = field_for(path, form) if "." in path or path in ("stages", "effective_from") \
            else path if path in form else None
        if name == "reminder_days":  # the contact section's only check: a day count
            message = MESSAGES["reminder_days"]
        elif name and "." in path and section_fields.message_for(name, path):
            message = section_fields.message_for(name, path)
        if name and name in form:
            form[name].errors = list(form[name].errors) + [message]
        else:
            form.form_errors.append(message)

