"""An upheld dispute credits an account while a plan is active: the plan asks that much less
(last instalments first) and completes when the credit covers what it still asks; monitoring
then has nothing to miss or break. Before (85a251d) the plan kept asking for the full schedule
and, with nothing owed, was broken by the nightly checks."""
from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.balances.services import balance_of, today_for
from portal.disputes import workflow
from portal.extensions import db as _db
from portal.plans.jobs import run_plan_monitoring
from portal.plans.models import InstalmentStatus, PlanStatus
from tests.dispute_helpers import join, raise_dispute
from tests.integration.payment_helpers import make_active_plan


def _plan_and_dispute(make_account, make_staff, amounts, disputed):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    account = make_account(principal=sum(amounts), interest=0, fees=0)
    today = today_for(account)
    plan = make_active_plan(account, amounts, today + timedelta(days=7))
    dispute = raise_dispute(account, amount=disputed)
    return account, plan, dispute, agent, today


def test_a_credit_for_all_that_is_owed_completes_the_plan(make_account, make_staff, clock):
    account, plan, dispute, agent, today = _plan_and_dispute(
        make_account, make_staff, [30_000, 30_000, 30_000], 90_000)
    workflow.resolve(dispute, agent, "upheld", None, "Not the cardholder's purchase.")
    _db.session.commit()
    assert balance_of(account, today).total == 0
    assert plan.status == PlanStatus.COMPLETED
    assert all(i.status == InstalmentStatus.PAID for i in plan.instalments)
    clock.shift(timedelta(days=60))
    summary = run_plan_monitoring()
    assert summary.broken == [] and summary.missed == 0
    _db.session.refresh(plan)
    assert plan.status == PlanStatus.COMPLETED


def test_a_partial_credit_lowers_the_last_instalments(make_account, make_staff, clock):
    account, plan, dispute, agent, today = _plan_and_dispute(
        make_account, make_staff, [30_000, 30_000, 30_000], 40_000)
    workflow.resolve(dispute, agent, "upheld", None, "Charged twice.")
    _db.session.commit()
    assert plan.status == PlanStatus.ACTIVE
    still = [i.amount - i.paid_amount for i in sorted(plan.instalments, key=lambda i: i.seq)]
    assert still == [30_000, 20_000, 0]  # what is due first is as agreed
    assert sum(still) == balance_of(account, today).total == 50_000
    applied = _db.session.scalars(select(AuditEvent.after).where(
        AuditEvent.action == "plan.credit_applied")).one()
    assert applied["amount"] == 40_000
