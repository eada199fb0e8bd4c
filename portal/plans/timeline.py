"""Changes to an agreed plan (a new payment date, a delay, a skip) as cardholder timeline items.

Read from the recorded `PlanRevision` rows, dated on the cardholder's day the change was agreed:
kind `plan_date_change`, `plan_delay` or `plan_skip`, with the payment's number (`seq`) and the
new date. `portal.wiring` registers the source.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select

from portal.accounts.models import Account, Cardholder
from portal.consequences.types import TimelineItem
from portal.domain.dates import local_date
from portal.extensions import db
from portal.plans.models import Plan, PlanRevision
from portal.timeutil import as_aware

# The accounts' plan changes with their cardholder's zone; built once: only the ids change.
_REVISIONS = (
    select(Plan.account_id, PlanRevision.kind, PlanRevision.instalment_seq,
           PlanRevision.new_date, PlanRevision.consent_at, Cardholder.timezone)
    .join(Plan, Plan.id == PlanRevision.plan_id)
    .join(Account, Account.id == Plan.account_id)
    .join(Cardholder, Cardholder.id == Account.cardholder_id)
    .where(Plan.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(PlanRevision.plan_id, PlanRevision.number))


def plan_change_items_for(account_ids: list[int], as_of: date) -> dict[int, list[TimelineItem]]:
    """Per account id, the plan changes agreed on or before `as_of` (the cardholder's day), as
    past timeline items. One query for all accounts."""
    if not account_ids:
        return {}
    found: dict[int, list[TimelineItem]] = {}
    for account_id, kind, seq, new_date, consent_at, zone in db.session.execute(
            _REVISIONS, {"ids": list(account_ids)}):
        on = local_date(as_aware(consent_at), zone)
        if on <= as_of:
            found.setdefault(account_id, []).append(TimelineItem(
                kind=f"plan_{kind}", on=on, past=True, days_late=0, seq=seq,
                new_date=new_date))
    return found
