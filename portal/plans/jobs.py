"""Nightly plan monitoring: missed instalments, broken plans, completion. Idempotent.

`run_plan_monitoring(as_of)` handles each active plan in its own transaction; on PostgreSQL
rows are claimed with FOR UPDATE SKIP LOCKED so several workers never handle a plan twice,
and a second run on the same day changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.locks import share_account
from portal.accounts.models import Account
from portal.audit.services import record
from portal.balances.services import today_for
from portal.extensions import db
from portal.plans.endings import break_plan, complete, complete_if_nothing_owed
from portal.plans.models import INSTALMENT_MACHINE, InstalmentStatus, Plan, PlanStatus


@dataclass
class MonitoringSummary:
    plans: int = 0
    missed: int = 0
    broken: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)

    def counts(self) -> dict:
        """What a run record keeps (`job_run.counts`)."""
        return {"plans_checked": self.plans, "instalments_missed": self.missed,
                "plans_broken": len(self.broken), "plans_completed": len(self.completed)}

    def line(self) -> str:
        return (f"plans checked {self.plans}, instalments missed {self.missed}, "
                f"plans broken {len(self.broken)}, plans completed {len(self.completed)}")


def check_plan(plan: Plan, as_of: date, summary: MonitoringSummary) -> None:
    """One plan on `as_of`: an unpaid instalment after its due date is missed; one still
    unpaid more than the plan's grace days after its due date breaks the plan."""
    unpaid = [i for i in plan.instalments if i.status != InstalmentStatus.PAID]
    if not unpaid:
        complete(plan, as_of)
        summary.completed.append(plan.id)
        return
    if any(inst.due_date < as_of for inst in unpaid) and complete_if_nothing_owed(plan, as_of):
        # Asked on a late instalment only (few plans): the account owes nothing any more.
        summary.completed.append(plan.id)
        return
    if plan.interest_added and any(
            i.due_date + timedelta(days=plan.grace_days) < as_of for i in unpaid):
        # Breaking reverses unearned interest after the events below: the account's row as
        # that entry's foreign key takes it, before them (docs/money.md, "Lock order").
        share_account(plan.account_id)
    for inst in unpaid:
        if inst.status == InstalmentStatus.DUE and inst.due_date < as_of:
            inst.status = INSTALMENT_MACHINE.check(inst.status, InstalmentStatus.MISSED)
            inst.missed_on = as_of
            summary.missed += 1
            db.session.flush()
            record("plan.instalment_missed", subject=plan, actor=("system", None),
                   after={"seq": inst.seq, "due_date": inst.due_date, "still_due": inst.still_due})
    if any(i.due_date + timedelta(days=plan.grace_days) < as_of for i in unpaid):
        break_plan(plan, as_of)
        summary.broken.append(plan.id)


def run_plan_monitoring(as_of: date | None = None, *, batch_size: int = 200) -> MonitoringSummary:
    """Check every active plan as of `as_of` (default: each cardholder's own today),
    committing per batch of plans."""
    summary = MonitoringSummary()
    last_id = 0
    postgres = db.session.get_bind().dialect.name == "postgresql"
    while True:
        # Instalments, accounts and cardholders (for each one's today) come in one query each
        # per batch, so a batch of plans with nothing to do costs the same for 3 or 200.
        query = (select(Plan).where(Plan.status == PlanStatus.ACTIVE, Plan.id > last_id)
                 .options(selectinload(Plan.instalments),
                          selectinload(Plan.account).selectinload(Account.cardholder))
                 .order_by(Plan.id).limit(batch_size))
        if postgres:
            query = query.with_for_update(skip_locked=True)
        plans = db.session.scalars(query).all()
        if not plans:
            break
        for plan in plans:
            last_id = plan.id
            day = as_of or today_for(plan.account)
            if plan.started_on > day:
                continue
            check_plan(plan, day, summary)
            summary.plans += 1
        db.session.commit()
    return summary
