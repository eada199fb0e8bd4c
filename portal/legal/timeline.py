"""Legal steps as cardholder timeline items (past only; staff notes never leave here)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, bindparam, or_, select

from portal.consequences.types import TimelineItem
from portal.extensions import db
from portal.legal.models import LegalAction, LegalActionKind
from portal.legal.services import effective_steps


# The accounts' steps up to a day, and every correction; built once: only the ids and the
# day change (issue 15).
_STEPS = select(LegalAction).where(
    LegalAction.account_id.in_(bindparam("ids", expanding=True)),
    or_(LegalAction.occurred_on <= bindparam("as_of", type_=Date),
        LegalAction.kind == LegalActionKind.CORRECTION))


def legal_items_for(account_ids: list[int], as_of: date) -> dict[int, list[TimelineItem]]:
    """Per account id, the legal steps that count (not corrected), on or before `as_of`, as
    past timeline items. One query for all accounts. The staff-only note is not copied."""
    if not account_ids:
        return {}
    grouped: dict[int, list[LegalAction]] = {}
    # Corrections count whatever their date: a step recorded in error never happened.
    for row in db.session.scalars(_STEPS, {"ids": list(account_ids), "as_of": as_of}):
        grouped.setdefault(row.account_id, []).append(row)
    return {account_id: [_item(s) for s in effective_steps(rows) if s.occurred_on <= as_of]
            for account_id, rows in grouped.items()}


def _item(step: LegalAction) -> TimelineItem:
    return TimelineItem(kind=str(step.kind), on=step.occurred_on, past=True, days_late=0,
                        amount=step.amount, currency=step.currency,
                        detail=step.court_reference, hearing_on=step.hearing_on)
