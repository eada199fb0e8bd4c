"""Words for care records, in the reader's language."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "breathing_space": _l("Breathing space"),
    "vulnerability": _l("Needs extra support (vulnerability)"),
}
REASON_LABELS = {
    "standard": _l("Standard breathing space (after debt advice)"),
    "mental_health_crisis": _l("Mental health crisis breathing space"),
    "health": _l("Health"),
    "life_event": _l("Life event"),
    "resilience": _l("Low resilience"),
    "capability": _l("Low capability"),
}
FREEZE_LABELS = {
    "contact": _l("collection messages and calls"),
    "interest": _l("interest"),
    "fees": _l("fees"),
    "escalation": _l("further steps on the account"),
}
REFUSALS = {
    "unknown_reason": _l("Choose what is recorded and why."),
    "starts_in_future": _l("The start cannot be in the future."),
    "starts_too_early": _l("The start can be at most 30 days back."),
    "ends_before_start": _l("The end cannot be before the start."),
    "ends_too_late": _l("The end can be at most a year after the start."),
    "longer_than_policy": _l("A standard breathing space cannot be longer than the profile allows."),
    "overlaps": _l("A breathing space is already in force for this cardholder."),
    "not_in_force": _l("This record is not in force today."),
}
