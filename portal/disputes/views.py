"""Small display helpers for dispute templates (dates in the reader's zone, money, labels)."""
from flask_babel import format_date

from portal import timeutil
from portal.accounts.labels import entry_label
from portal.core.filters import local_time
from portal.disputes import labels, sla
from portal.timeutil import as_aware


def day(moment) -> str:
    return format_date(as_aware(moment), "long") if moment else ""


def when(moment) -> str:
    return local_time(moment)


def entry_kind(kind) -> str:
    """The cardholder pages' wording for a ledger kind."""
    return entry_label(kind)


def answer_due(dispute, pauses: dict | None = None) -> tuple:
    """(the answer date the cardholder sees, whether it has passed): while we wait for them
    the date moves later; once it has passed, the pages say we are late instead of promising
    a day already gone. `pauses`: `sla.open_pauses` of a list."""
    now = timeutil.utcnow()  # looked up when called, so a moved clock (tests) applies
    due = sla.expected_answer(dispute, now, pauses)
    return due, as_aware(due) < now


def template_helpers() -> dict:
    return {"d_day": day, "d_when": when, "labels": labels, "entry_kind": entry_kind,
            "answer_due": answer_due}
