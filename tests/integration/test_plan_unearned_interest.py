"""A reduced-rate plan posts its interest up front; when it ends early, the part not yet
earned is reversed (a reversal entry pointing at the interest entry, never an edit)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.plans import endings, lifecycle
from portal.plans.models import PlanStatus
from portal.plans.unearned import unearned_interest
from tests.integration.plan_helpers import TODAY, agree, spec


@pytest.fixture()
def account(make_account):
    return make_account(principal=500_000, interest=20_000, fees=15_000,
                        oldest_unpaid_due_date=TODAY - timedelta(days=40))


@pytest.fixture()
def plan(app, account):
    with app.test_request_context():
        plan = agree(account, spec(interest="reduced", interest_rate_percent=Decimal("6")))
        if plan.status == PlanStatus.IN_REVIEW:  # outside the envelope: approved
            lifecycle.activate(plan, TODAY, "plan.approved")
        _db.session.commit()
    assert plan.status == PlanStatus.ACTIVE and plan.interest_added > 0
    return plan


def _interest_entries(plan):
    return _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == plan.account_id,
        LedgerEntry.source_ref.like(f"plan:{plan.id}:interest%")).order_by(LedgerEntry.id)).all()


def test_cancelling_on_the_first_day_reverses_all_the_up_front_interest(app, plan):
    with app.test_request_context():
        endings.cancel(plan, TODAY)
        _db.session.commit()
    original, reversal = _interest_entries(plan)
    assert original.amount == plan.interest_added
    assert reversal.kind == EntryKind.REVERSAL and reversal.reversal_of_id == original.id
    assert reversal.amount == -plan.interest_added


def test_breaking_half_way_reverses_only_the_interest_not_yet_earned(app, plan):
    day = plan.instalments[2].due_date
    unearned = unearned_interest(plan, day)
    assert 0 < unearned < plan.interest_added
    with app.test_request_context():
        endings.break_plan(plan, day)
        _db.session.commit()
    original, reversal = _interest_entries(plan)
    assert reversal.amount == -unearned
    assert original.amount + reversal.amount == plan.interest_added - unearned


def test_nothing_is_reversed_after_the_last_due_date(plan):
    assert unearned_interest(plan, plan.instalments[-1].due_date) == 0
