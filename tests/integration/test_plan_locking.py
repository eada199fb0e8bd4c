"""Decisions on one plan never both win: each transition locks the plan row and re-checks its
status, so a cancel racing an approval ends with one of them refused."""
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.extensions import db as _db
from portal.plans import decisions, endings, lifecycle
from portal.plans.models import Plan, PlanStatus
from tests.integration.plan_helpers import TODAY, agree, spec


@pytest.fixture()
def account(make_account):
    return make_account(principal=500_000, interest=20_000, fees=15_000,
                        oldest_unpaid_due_date=TODAY - timedelta(days=40))


@pytest.fixture()
def proposal(app, account):
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        _db.session.commit()
    assert plan.status == PlanStatus.IN_REVIEW
    return plan


def _meanwhile(plan, status):
    """Another request changed the plan after this one loaded it."""
    _db.session.execute(update(Plan).where(Plan.id == plan.id).values(status=status)
                        .execution_options(synchronize_session=False))


def test_cancel_of_a_proposal_approved_meanwhile_is_refused(app, proposal):
    assert proposal.status == PlanStatus.IN_REVIEW  # what the cardholder's request saw
    _meanwhile(proposal, PlanStatus.ACTIVE)
    with app.test_request_context(), pytest.raises(lifecycle.PlanError) as caught:
        endings.cancel(proposal, TODAY)
    assert caught.value.code == "plan_changed"


def test_approval_of_a_proposal_cancelled_meanwhile_is_refused(app, proposal, make_staff):
    manager = make_staff("collections_manager")
    assert proposal.status == PlanStatus.IN_REVIEW
    _meanwhile(proposal, PlanStatus.CANCELLED)
    with app.test_request_context(), pytest.raises(lifecycle.PlanError) as caught:
        decisions.approve(proposal, manager, TODAY)
    assert caught.value.code == "not_in_review"
    assert proposal.status == PlanStatus.CANCELLED


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_cancel_racing_approve_ends_with_exactly_one_of_them(app, proposal, make_staff):
    manager_id, plan_id = make_staff("collections_manager").id, proposal.id
    _db.session.commit()
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name):
        from portal.staff.models import StaffUser

        with app.test_request_context():
            try:
                plan = _db.session.get(Plan, plan_id)
                assert plan.status == PlanStatus.IN_REVIEW  # both saw the proposal waiting
                barrier.wait()
                if name == "approve":
                    decisions.approve(plan, _db.session.get(StaffUser, manager_id), TODAY)
                else:
                    endings.cancel(plan, TODAY)
                _db.session.commit()
                outcomes[name] = "ok"
            except lifecycle.PlanError as exc:
                _db.session.rollback()
                outcomes[name] = exc.code
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("approve", "cancel")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes.values()).count("ok") == 1, outcomes
    _db.session.expire_all()
    final = _db.session.get(Plan, plan_id).status
    assert final == (PlanStatus.ACTIVE if outcomes["approve"] == "ok" else PlanStatus.CANCELLED)
