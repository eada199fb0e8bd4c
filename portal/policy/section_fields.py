"""Form fields of the risk editor for the sections other features own and check: `promises`
(portal.collections.promise_rules), `care` (portal.care.rules) and `servicing`
(portal.plans.servicing_rules). Those features sit above
policy, so their rules are not imported: publishing runs their registered section checks
(`portal.policy.rules.section_errors`) and each error comes back to its field here, with the
field's own message (the bounds below are the features' bounds, kept in step by a test).

A promise or servicing number left empty drops its key: the feature then uses its default. A
profile without a `care` or `servicing` section gets one only when something is filled in.
`facts` lists the three sections for the read-only version page.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import Optional

from portal.core.forms import ungrouped
from portal.domain.money import MoneyError, parse_major, to_major

# field -> key of the promises section (whole numbers)
PROMISE_KEYS = {
    "promise_days_ahead": "max_days_ahead",
    "promise_percent": "minimum_percent_of_overdue",
    "promise_grace_days": "grace_days",
    "promise_broken_limit": "broken_limit",
    "promise_broken_window": "broken_window_days",
}
PROMISE_MINIMUM = "promise_minimum"  # the smallest promise in the profile's currency
# field -> key of the servicing section (whole numbers); the yes/no key has its own field
SERVICING_KEYS = {
    "servicing_date_changes": "date_changes_per_plan",
    "servicing_date_change_days": "date_change_max_days",
    "servicing_delay_days": "delay_max_days",
    "servicing_skips": "skips_per_plan",
    "servicing_max_term": "max_term_months",
}
SERVICING_ALLOWED = "servicing_date_change_allowed"
SERVICING_LABELS = {
    "servicing_date_changes": _l("Payment date changes allowed per plan"),
    "servicing_date_change_days": _l("Days a payment date may move, earlier or later"),
    "servicing_delay_days": _l("Days one payment may be delayed (0: no delays)"),
    "servicing_skips": _l("Payments that may be skipped per plan"),
    "servicing_max_term": _l("Longest plan after changes, in months from its start"),
}
PROMISE_LABELS = {
    "promise_days_ahead": _l("Latest promised date, in days from the cardholder's today"),
    "promise_percent": _l("Smallest promise as a percent of the overdue amount"),
    "promise_grace_days": _l("Days of grace after the promised date"),
    "promise_broken_limit": _l("Broken promises that stop promises online"),
    "promise_broken_window": _l("Counted over this many days"),
}
CARE_DAYS = "care_days"
CARE_KINDS = ("breathing_space", "vulnerability")
FREEZABLE = ("contact", "interest", "fees", "escalation")
CARE_KIND_LABELS = {"breathing_space": _l("Breathing space"),
                    "vulnerability": _l("Needs extra support (vulnerability)")}
FREEZE_FIELD_LABELS = {
    "contact": _l("Freezes collection messages and calls"),
    "interest": _l("Freezes interest"),
    "fees": _l("Freezes fees"),
    "escalation": _l("Freezes further steps on the account"),
}
FIELD_MESSAGES = {
    "promise_days_ahead": _l("Enter a number of days from 1 to 90."),
    "promise_percent": _l("Enter a whole percent from 0 to 100."),
    "promise_grace_days": _l("Enter a number of days from 0 to 30."),
    "promise_broken_limit": _l("Enter a number from 1 to 20."),
    "promise_broken_window": _l("Enter a number of days from 1 to 365."),
    PROMISE_MINIMUM: _l("Enter an amount greater than zero."),
    CARE_DAYS: _l("Enter a number of days from 1 to 366."),
    "servicing_date_changes": _l("Enter a number from 0 to 12."),
    "servicing_date_change_days": _l("Enter a number of days from 1 to 31."),
    "servicing_delay_days": _l("Enter a number of days from 0 to 60."),
    "servicing_skips": _l("Enter a number from 0 to 12."),
    "servicing_max_term": _l("Enter a number of months from 1 to 120."),
    "care_freezes": _l("Choose only what the portal can freeze, each once."),
}


def freeze_field(kind: str, what: str) -> str:
    return f"care_{kind}_{what}"


def add_fields(form_class) -> None:
    """Add the promises, care and servicing fields to the editor's form class."""
    for name, label in {**PROMISE_LABELS, **SERVICING_LABELS}.items():
        setattr(form_class, name, IntegerField(label, validators=[Optional()]))
    setattr(form_class, PROMISE_MINIMUM, StringField(
        _l("Smallest promise, in the profile's currency"), validators=[Optional()]))
    setattr(form_class, CARE_DAYS, IntegerField(_l("Days in a standard breathing space"),
                                                validators=[Optional()]))
    for kind in CARE_KINDS:
        for what in FREEZABLE:
            setattr(form_class, freeze_field(kind, what),
                    BooleanField(FREEZE_FIELD_LABELS[what]))
    setattr(form_class, SERVICING_ALLOWED,
            BooleanField(_l("Cardholders may move the payment date of their plan")))


def fill(form, document: dict) -> None:
    """Prefill the promises, care and servicing fields from a document."""
    promises = document.get("promises") if isinstance(document.get("promises"), dict) else {}
    for name, key in PROMISE_KEYS.items():
        form[name].data = promises.get(key)
    table = promises.get("minimum_amount")
    if isinstance(table, dict):
        amount = table.get(document["currency"], table.get("default"))
        form[PROMISE_MINIMUM].data = "" if amount is None else str(to_major(amount,
                                                                            document["currency"]))
    care = document.get("care") if isinstance(document.get("care"), dict) else {}
    form[CARE_DAYS].data = care.get("breathing_space_days")
    freezes = care.get("freezes") if isinstance(care.get("freezes"), dict) else {}
    for kind in CARE_KINDS:
        for what in FREEZABLE:
            form[freeze_field(kind, what)].data = what in (freezes.get(kind) or [])
    servicing = _table(document, "servicing")
    for name, key in SERVICING_KEYS.items():
        form[name].data = servicing.get(key)
    form[SERVICING_ALLOWED].data = servicing.get("date_change_allowed", True) is True


def _table(document: dict, name: str) -> dict:
    return document[name] if isinstance(document.get(name), dict) else {}


def write(form, doc: dict, problems: list) -> None:
    """Write the promises, care and servicing fields into `doc` (a copy of the base
    document)."""
    currency = doc["currency"]
    promises = dict(doc.get("promises") or {}) if isinstance(doc.get("promises"), dict) else {}
    for name, key in PROMISE_KEYS.items():
        if form[name].data is None:
            promises.pop(key, None)
        else:
            promises[key] = form[name].data
    text = (form[PROMISE_MINIMUM].data or "").strip()
    if text:
        try:
            amount = parse_major(ungrouped(text), currency)
        except MoneyError:
            problems.append((PROMISE_MINIMUM, "invalid"))
        else:
            table = promises.get("minimum_amount")
            promises["minimum_amount"] = dict(table if isinstance(table, dict) else {},
                                              **{currency: amount})
    if promises or "promises" in doc:
        doc["promises"] = promises
    care = dict(doc["care"]) if isinstance(doc.get("care"), dict) else {}
    ticked = {kind: [what for what in FREEZABLE if form[freeze_field(kind, what)].data]
              for kind in CARE_KINDS}
    if "care" in doc or form[CARE_DAYS].data is not None or any(ticked.values()):
        if form[CARE_DAYS].data is None:
            care.pop("breathing_space_days", None)
        else:
            care["breathing_space_days"] = form[CARE_DAYS].data
        care["freezes"] = ticked
        doc["care"] = care
    _write_servicing(form, doc)


def _write_servicing(form, doc: dict) -> None:
    servicing = dict(_table(doc, "servicing"))
    for name, key in SERVICING_KEYS.items():
        if form[name].data is None:
            servicing.pop(key, None)
        else:
            servicing[key] = form[name].data
    allowed = bool(form[SERVICING_ALLOWED].data)
    if "servicing" in doc or servicing or not allowed:
        servicing["date_change_allowed"] = allowed
        doc["servicing"] = servicing


def field_for(parts: list[str]) -> str | None:
    """The field a `promises.*`, `care.*` or `servicing.*` error path belongs to."""
    if parts[0] == "promises":
        key = parts[1] if len(parts) > 1 else ""
        if key == "minimum_amount":
            return PROMISE_MINIMUM
        return next((name for name, k in PROMISE_KEYS.items() if k == key), None)
    if parts[0] == "care":
        key = parts[1] if len(parts) > 1 else ""
        if key == "breathing_space_days":
            return CARE_DAYS
        if key == "freezes":
            kind = parts[2] if len(parts) > 2 and parts[2] in CARE_KINDS else CARE_KINDS[0]
            return freeze_field(kind, FREEZABLE[0])
    if parts[0] == "servicing":
        key = parts[1] if len(parts) > 1 else ""
        if key == "date_change_allowed":
            return SERVICING_ALLOWED
        return next((name for name, k in SERVICING_KEYS.items() if k == key), None)
    return None


def message_for(name: str, path: str):
    """The field's own message for a section error, or None to use the code's."""
    if path.startswith("care.freezes"):
        return FIELD_MESSAGES["care_freezes"]
    return FIELD_MESSAGES.get(name)


def facts(document: dict) -> list[tuple]:
    """The promises, care and servicing sections as the version page shows them: (heading,
    the section's rule, [(label, value, how)]) with `how` one of number, money, yes_no,
    list (labels); a section the document lacks is left out."""
    shown = []
    promises = _table(document, "promises")
    if promises:
        rows = [(PROMISE_LABELS[name], promises[key], "number")
                for name, key in PROMISE_KEYS.items() if key in promises]
        table = promises.get("minimum_amount")
        if isinstance(table, dict) and table.get(document["currency"], table.get("default")):
            rows.insert(1, (_l("Smallest promise, in the profile's currency"),
                            table.get(document["currency"], table.get("default")), "money"))
        shown.append((_l("Promises to pay"), promises.get("rule"), rows))
    care = _table(document, "care")
    if care:
        rows = [(_l("Days in a standard breathing space"), care["breathing_space_days"],
                 "number")] if "breathing_space_days" in care else []
        freezes = _table(care, "freezes")
        rows += [(CARE_KIND_LABELS[kind], [FREEZE_FIELD_LABELS[w] for w in FREEZABLE
                                           if w in (freezes.get(kind) or [])], "list")
                 for kind in CARE_KINDS]
        shown.append((_l("Breathing space and extra support"), care.get("rule"), rows))
    servicing = _table(document, "servicing")
    if servicing:
        rows = [(_l("Cardholders may move the payment date of their plan"),
                 servicing.get("date_change_allowed", True) is True, "yes_no")]
        rows += [(SERVICING_LABELS[name], servicing[key], "number")
                 for name, key in SERVICING_KEYS.items() if key in servicing]
        shown.append((_l("Changing agreed plans"), servicing.get("rule"), rows))
    return shown
