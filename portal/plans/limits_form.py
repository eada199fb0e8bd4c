"""The risk team's plan-limits form: the common knobs of `limits`, `auto_approval` and the
collector's authority as labelled fields, turned into a "plans" section (other keys, such as
per-stage overrides, are kept as they are) and checked by portal.plans.rules.
"""
from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, Form, FormField, HiddenField, IntegerField,
                     SelectField, SelectMultipleField, StringField, widgets)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.core.forms import money_error, ungrouped
from portal.core.inputs import PortalForm
from portal.domain.money import MoneyError, parse_major, to_major
from portal.plans.rules import FREQUENCIES, PLAN_TYPES, validate_plans_section

TYPE_LABELS = {"instalment": _l("Instalment plan"), "settlement": _l("Settlement (lump sum)"),
               "deferral": _l("Deferral (pay in full later)")}
FREQUENCY_LABELS = {"weekly": _l("Weekly"), "fortnightly": _l("Every two weeks"),
                    "monthly": _l("Monthly")}
INT_KEYS = ("min_instalments", "max_instalments", "max_deferral_days", "first_due_within_days",
            "max_plans_per_12_months", "cooling_off_days", "grace_days")
PERCENT_KEYS = ("min_down_payment_percent", "interest_rate_percent",
                "settlement_discount_percent")
MESSAGES = {
    "missing": _l("Enter a value."),
    "invalid": _l("Enter a valid value."),
    "negative": _l("Enter zero or more."),
    "percent_out_of_range": _l("Enter a percentage from 0 to 100."),
    "min_above_max": _l("The most instalments cannot be fewer than the fewest."),
    "unknown_type": _l("Choose from the list."),
    "unknown_frequency": _l("Choose from the list."),
    "envelope_wider": _l("Automatic approval cannot allow more than the plan limits."),
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _int(label, required):
    checks = [InputRequired(message=_l("Enter a value.")) if required else Optional(),
              NumberRange(min=0, max=10_000, message=_l("Enter a whole number from 0 to 10000."))]
    return IntegerField(label, validators=checks)


def _text(label, required):
    return StringField(label, validators=[InputRequired(message=_l("Enter a value."))
                                          if required else Optional(), Length(max=24)])


def _section_form(currencies, required: bool):
    """Fields for `limits` (required) or `auto_approval` (blank = same as the plan limits)."""
    inherit = [] if required else [("", _l("Same as the plan limits"))]

    class Section(Form):
        plan_types = CheckboxesField(_l("Plan types"), choices=list(TYPE_LABELS.items()))
        frequencies = CheckboxesField(_l("Payment frequencies"),
                                      choices=list(FREQUENCY_LABELS.items()))
        min_instalments = _int(_l("Fewest instalments"), required)
        max_instalments = _int(_l("Most instalments"), required)
        max_deferral_days = _int(_l("Longest deferral (days)"), required)
        first_due_within_days = _int(_l("First instalment due within (days)"), required)
        min_down_payment_percent = _text(_l("Smallest down payment (%)"), required)
        interest = SelectField(_l("Interest during the plan"), choices=inherit + [
            ("frozen", _l("Frozen")), ("reduced", _l("Reduced to a lower rate"))])
        interest_rate_percent = _text(_l("Reduced interest rate (% a year)"), False)
        fees_waived = SelectField(_l("Fees may be waived"), choices=inherit + [
            ("yes", _l("Yes")), ("no", _l("No"))])
        settlement_discount_percent = _text(_l("Largest settlement discount (%)"), required)
        max_plans_per_12_months = _int(_l("Most plans in 12 months"), required)
        cooling_off_days = _int(_l("Cooling-off after a broken plan (days)"), required)
        grace_days = _int(_l("Grace before a missed instalment breaks the plan (days)"),
                          required)

    for cur in currencies:
        setattr(Section, f"min_instalment_{cur}",
                _text(_l("Smallest instalment (%(currency)s)", currency=cur), required))
        if not required:
            setattr(Section, f"max_total_{cur}",
                    _text(_l("Largest plan total approved automatically (%(currency)s)",
                             currency=cur), False))
    return Section


def build_form_class(currencies: list[str]):
    """A form class for a profile whose amounts are in `currencies`."""

    class Authority(Form):
        max_instalments = _int(_l("Most instalments a collector may approve"), True)

    for cur in currencies:
        setattr(Authority, f"max_concession_{cur}",
                _text(_l("Largest concession a collector may approve (%(currency)s)",
                         currency=cur), True))

    class PlanLimitsForm(PortalForm):
        limits = FormField(_section_form(currencies, True), label=_l("Plan limits"))
        auto_approval = FormField(_section_form(currencies, False),
                                  label=_l("Automatic approval"))
        authority = FormField(Authority, label=_l("Collector's authority"))
        effective_from = DateField(_l("In force from"), validators=[
            InputRequired(message=_l("Enter the date the new limits take effect."))])
        note = StringField(_l("Note for the version history"),
                           validators=[Optional(), Length(max=500)])
        draft = HiddenField()  # the previewed draft's fingerprint (portal.policy.drafts)
        confirm = BooleanField(_l("I have read the changes above and want to publish them"))

    return PlanLimitsForm


def currencies_of(section: dict) -> list[str]:
    found = set((section.get("limits") or {}).get("min_instalment") or {})
    found |= set((section.get("auto_approval") or {}).get("max_total") or {})
    found |= set(((section.get("authority") or {}).get("collector") or {}).get("max_concession")
                 or {})
    return sorted(found)


def _major(amount, currency) -> str:
    return str(to_major(int(amount), currency))


def fill(form, section: dict, currencies: list[str]) -> None:
    """Prefill the form from a "plans" section (blank envelope fields inherit the limits)."""
    for name in ("limits", "auto_approval"):
        raw, sub = section.get(name) or {}, getattr(form, name)
        for key in ("plan_types", "frequencies", *INT_KEYS, *PERCENT_KEYS, "interest"):
            if raw.get(key) is not None:
                sub[key].data = raw[key]
        if raw.get("fees_waived") is not None:
            sub.fees_waived.data = "yes" if raw["fees_waived"] else "no"
        for cur in currencies:
            if cur in (raw.get("min_instalment") or {}):
                sub[f"min_instalment_{cur}"].data = _major(raw["min_instalment"][cur], cur)
            if name == "auto_approval" and cur in (raw.get("max_total") or {}):
                sub[f"max_total_{cur}"].data = _major(raw["max_total"][cur], cur)
    collector = (section.get("authority") or {}).get("collector") or {}
    form.authority.max_instalments.data = collector.get("max_instalments")
    for cur in currencies:
        if cur in (collector.get("max_concession") or {}):
            form.authority[f"max_concession_{cur}"].data = _major(
                collector["max_concession"][cur], cur)


def _read_section(sub, currencies, required: bool, errors: dict) -> dict:
    values: dict = {}
    for key in ("plan_types", "frequencies"):
        if sub[key].data:
            values[key] = [v for v in (PLAN_TYPES if key == "plan_types" else FREQUENCIES)
                           if v in sub[key].data]
    for key in INT_KEYS:
        if sub[key].data is not None:
            values[key] = sub[key].data
    for key in PERCENT_KEYS:
        text = (sub[key].data or "").strip()
        if text:
            try:
                values[key] = str(Decimal(text).normalize()) if Decimal(text).is_finite() else text
            except InvalidOperation:
                errors[sub[key]] = MESSAGES["invalid"]
    if sub.interest.data:
        values["interest"] = sub.interest.data
    if sub.fees_waived.data:
        values["fees_waived"] = sub.fees_waived.data == "yes"
    for prefix, key in (("min_instalment", "min_instalment"), ("max_total", "max_total")):
        amounts = {}
        for cur in currencies:
            field = sub._fields.get(f"{prefix}_{cur}")
            if field is None or not (field.data or "").strip():
                continue
            try:
                amounts[cur] = parse_major(ungrouped(field.data), cur)
            except MoneyError as exc:
                errors[field] = money_error(exc)
        if amounts:
            values[key] = amounts
    return values


def to_section(form, current: dict, currencies: list[str]) -> tuple[dict, dict]:
    """The edited "plans" section and {field: message} for input that could not be read.

    `limits` keys not on the form are kept; `auto_approval` keys on the form are replaced
    (blank = removed, so the plan limit applies); stages, offers and the rest are unchanged.
    """
    errors: dict = {}
    section = copy.deepcopy(current)
    limits = _read_section(form.limits, currencies, True, errors)
    for key in ("plan_types", "frequencies"):
        if key not in limits:
            errors[form.limits[key]] = _l("Choose at least one.")
    section["limits"] = {**(current.get("limits") or {}), **limits}
    section["limits"].pop("interest_rate_percent", None)
    if "interest_rate_percent" in limits:
        section["limits"]["interest_rate_percent"] = limits["interest_rate_percent"]
    envelope = _read_section(form.auto_approval, currencies, False, errors)
    kept = {k: v for k, v in (current.get("auto_approval") or {}).items()
            if k not in form.auto_approval._fields and k not in ("min_instalment", "max_total")}
    section["auto_approval"] = {**kept, **envelope}
    authority = copy.deepcopy(current.get("authority") or {})
    collector = authority.setdefault("collector", {})
    collector["max_instalments"] = form.authority.max_instalments.data
    concession = {}
    for cur in currencies:
        field = form.authority[f"max_concession_{cur}"]
        try:
            concession[cur] = parse_major(ungrouped(field.data or ""), cur)
        except MoneyError as exc:
            errors[field] = money_error(exc)
    collector["max_concession"] = concession
    section["authority"] = authority
    return section, errors


def field_for(form, path: str):
    """The form field a rules error path ("plans.limits.max_instalments") belongs to."""
    parts = path.split(".")
    if len(parts) == 3 and parts[1] in ("limits", "auto_approval"):
        sub = getattr(form, parts[1])
        if parts[2] in sub._fields:
            return sub[parts[2]]
        matches = [f for name, f in sub._fields.items() if name.startswith(parts[2] + "_")]
        return matches[0] if matches else None
    if parts[:3] == ["plans", "authority", "collector"] and len(parts) == 4:
        matches = [f for name, f in form.authority._fields.items() if name.startswith(parts[3])]
        return matches[0] if matches else None
    return None


def check(form, section: dict) -> list[tuple[str, str]]:
    """Run the plan rules; attach each problem to its field. Returns the problems that belong
    to no field on the form (stage overrides and the like), as (path, code)."""
    leftover = []
    for path, code in validate_plans_section(section):
        field = field_for(form, path)
        if field is None:
            leftover.append((path, code))
        else:
            field.errors = list(field.errors) + [MESSAGES.get(code, MESSAGES["invalid"])]
    return leftover
