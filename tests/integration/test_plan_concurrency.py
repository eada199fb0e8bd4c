"""Two tabs accepting at once produce one plan (needs PostgreSQL: real concurrent sessions)."""
import os
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db as _db
from portal.plans import lifecycle
from portal.plans.models import Plan, PlanStatus
from tests.integration.plan_helpers import TODAY, consent_for, spec

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


def test_two_tabs_accepting_at_once_make_one_active_plan(app, make_account):
    account = make_account()
    account_id = account.id
    with app.test_request_context():
        consents = [consent_for(account, spec(count=n)) for n in (3, 6)]
    barrier = threading.Barrier(2)
    outcomes = []

    def tab(n, consent):
        with app.test_request_context():
            from portal.accounts.models import Account

            mine = _db.session.get(Account, account_id)
            barrier.wait()
            try:
                lifecycle.submit(mine, spec(count=n), consent, source="offer", today=TODAY)
                _db.session.commit()
                outcomes.append("ok")
            except (IntegrityError, lifecycle.PlanError) as exc:
                _db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=tab, args=(n, c)) for n, c in zip((3, 6), consents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1
    active = _db.session.scalar(select(func.count(Plan.id)).where(
        Plan.account_id == account_id, Plan.status == PlanStatus.ACTIVE))
    assert active == 1
