"""PostgreSQL: two tabs confirming a change to one plan at the same instant apply one after
the other (the plan row is locked), so the second is counted against the limit the first
used and refused; the plan never gets more changes than its policy allows."""
from __future__ import annotations

import os
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.plans import lifecycle, servicing
from portal.plans.models import Plan, PlanRevision
from portal.plans.servicing_rules import ServicingRefused
from tests.clock import TODAY
from tests.helpers import run_together
from tests.integration.plan_helpers import agree

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


def test_two_tabs_skipping_at_once_make_one_skip(app, make_account):
    account = make_account(principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    plan_id = agree(account).id  # one skip per plan in both shipped profiles
    _db.session.commit()
    changes = [servicing.Change("skip", seq) for seq in (2, 3)]
    with app.test_request_context():
        plan = _db.session.get(Plan, plan_id)
        hashes = [servicing.preview(plan, c, TODAY, "en").hash for c in changes]
    at = datetime(2026, 11, 28, 9, tzinfo=timezone.utc)

    def tab(i):
        mine = _db.session.get(Plan, plan_id)
        consent = lifecycle.Consent(hashes[i], "en", "203.0.113.9", "tab", at)
        return servicing.apply(mine, changes[i], consent, TODAY, actor=("cardholder", 1)).number

    made, errors = run_together(app, tab, 2, request_context=True)
    assert made == [1]
    assert [type(e) for e in errors] == [ServicingRefused]
    assert errors[0].code == "limit_reached"
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count(PlanRevision.id))) == 1
    plan = _db.session.get(Plan, plan_id)
    assert sum(i.amount for i in plan.instalments) == plan.total
    assert sorted(i.seq for i in plan.instalments) == [1, 2, 3, 4, 5, 6]
