"""Outcomes of an experiment per arm, with counts and 95 % confidence intervals.

Window: from the experiment's start to its end, the day before it was stopped, or `today`,
whichever comes first. Per arm, over the accounts assigned to it:

- plan agreed: accounts with a plan started in the window / accounts in the arm;
- plans kept: plans started in the window that are kept (completed, or active with no missed
  instalment) / those kept, behind or broken (cancelled left out);
- paid within 30 days: accounts with a payment in the ledger dated from the start to 30 days
  after it / accounts in the arm;
- cured: accounts that moved back to the `current` stage (nothing overdue) in the window /
  accounts in the arm.

Each proportion has its Wilson interval; the challenger less the champion has a
normal-approximation interval (portal.domain.stats). Five grouped queries whatever the size.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import distinct, func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.consequences.models import StageChange
from portal.domain.stats import Estimate, difference_interval, wilson_interval
from portal.experiments.models import Experiment, ExperimentAssignment as EA
from portal.extensions import db
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus

PAID_WITHIN_DAYS = 30
OUTCOMES = ("plan_agreed", "plans_kept", "paid_30_days", "cured")


@dataclass(frozen=True)
class ArmResult:
    count: int
    total: int
    estimate: Estimate


@dataclass(frozen=True)
class OutcomeRow:
    key: str
    arms: dict  # arm -> ArmResult
    difference: Estimate  # b - a


@dataclass(frozen=True)
class Report:
    first_day: date
    last_day: date | None  # None: the window has not started
    accounts: dict  # arm -> accounts assigned
    rows: tuple[OutcomeRow, ...]


def window(experiment: Experiment, today: date) -> tuple[date, date | None]:
    last = min(experiment.ends_on, today)
    if experiment.stopped_on is not None:
        last = min(last, experiment.stopped_on - timedelta(days=1))
    return experiment.starts_on, (last if last >= experiment.starts_on else None)


def compare(counts: dict[str, dict[str, tuple[int, int]]]) -> tuple[OutcomeRow, ...]:
    """Pure: {outcome: {arm: (count, total)}} into rows with intervals."""
    rows = []
    for key in OUTCOMES:
        by_arm = counts.get(key, {})
        (ka, na), (kb, nb) = by_arm.get("a", (0, 0)), by_arm.get("b", (0, 0))
        rows.append(OutcomeRow(key, {"a": ArmResult(ka, na, wilson_interval(ka, na)),
                                     "b": ArmResult(kb, nb, wilson_interval(kb, nb))},
                               difference_interval(ka, na, kb, nb)))
    return tuple(rows)


def _by_arm(query) -> dict[str, int]:
    return {arm: int(n) for arm, n in db.session.execute(query)}


def report(experiment: Experiment, today: date) -> Report:
    first, last = window(experiment, today)
    mine = EA.experiment_id == experiment.id
    accounts = _by_arm(select(EA.arm, func.count()).where(mine).group_by(EA.arm))
    end = last or first - timedelta(days=1)  # an empty window counts nothing
    agreed = _by_arm(select(EA.arm, func.count(distinct(Plan.account_id)))
                     .join(Plan, Plan.account_id == EA.account_id)
                     .where(mine, Plan.started_on >= first, Plan.started_on <= end)
                     .group_by(EA.arm))
    missed = (select(PlanInstalment.plan_id).where(PlanInstalment.status == InstalmentStatus.MISSED)
              .distinct().subquery())
    plans: dict[str, list[int]] = {}
    for arm, status, has_missed, n in db.session.execute(
            select(EA.arm, Plan.status, missed.c.plan_id.is_not(None), func.count())
            .join(Plan, Plan.account_id == EA.account_id)
            .outerjoin(missed, missed.c.plan_id == Plan.id)
            .where(mine, Plan.started_on >= first, Plan.started_on <= end)
            .group_by(EA.arm, Plan.status, missed.c.plan_id.is_not(None))):
        kept_judged = plans.setdefault(arm, [0, 0])
        status = PlanStatus(status)
        if status in (PlanStatus.COMPLETED, PlanStatus.ACTIVE, PlanStatus.BROKEN):
            kept_judged[1] += int(n)
            if status == PlanStatus.COMPLETED or (status == PlanStatus.ACTIVE and not has_missed):
                kept_judged[0] += int(n)
    paid_end = min(end, first + timedelta(days=PAID_WITHIN_DAYS))
    paid = _by_arm(select(EA.arm, func.count(distinct(LedgerEntry.account_id)))
                   .join(LedgerEntry, LedgerEntry.account_id == EA.account_id)
                   .where(mine, LedgerEntry.kind == EntryKind.PAYMENT,
                          LedgerEntry.effective_date >= first,
                          LedgerEntry.effective_date <= paid_end)
                   .group_by(EA.arm))
    cured = _by_arm(select(EA.arm, func.count(distinct(StageChange.account_id)))
                    .join(StageChange, StageChange.account_id == EA.account_id)
                    .where(mine, StageChange.to_stage == "current",
                           StageChange.changed_on >= first, StageChange.changed_on <= end)
                    .group_by(EA.arm))
    counts = {
        "plan_agreed": {arm: (agreed.get(arm, 0), accounts.get(arm, 0)) for arm in ("a", "b")},
        "plans_kept": {arm: tuple(plans.get(arm, (0, 0))) for arm in ("a", "b")},
        "paid_30_days": {arm: (paid.get(arm, 0), accounts.get(arm, 0)) for arm in ("a", "b")},
        "cured": {arm: (cured.get(arm, 0), accounts.get(arm, 0)) for arm in ("a", "b")},
    }
    return Report(first, last, accounts, compare(counts))
