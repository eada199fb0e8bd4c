"""Small display helpers for dispute templates (dates in the reader's zone, money, labels)."""
from flask_babel import format_date, format_datetime

from portal.disputes import labels
from portal.timeutil import as_aware


def day(moment) -> str:
    return format_date(as_aware(moment), "long") if moment else ""


def when(moment) -> str:
    return format_datetime(as_aware(moment), "medium") if moment else ""


def entry_kind(kind) -> str:
    """The cardholder pages' wording for a ledger kind."""
    from portal.accounts.views import entry_label

    return entry_label(kind)


def expected_answer(dispute):
    """The answer date the cardholder sees; while we wait for them it moves later."""
    from portal.disputes import sla
    from portal.timeutil import utcnow

    return sla.expected_answer(dispute, utcnow())


def template_helpers() -> dict:
    return {"d_day": day, "d_when": when, "labels": labels, "entry_kind": entry_kind,
            "expected_answer": expected_answer}
