"""Two tabs sending proposals that go to review at once leave one proposal waiting; the other
tab gets the refusal a cardholder sees (needs PostgreSQL: real concurrent sessions)."""
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.plans import lifecycle
from portal.plans.models import Plan, PlanStatus
from tests.helpers import run_together
from tests.integration.test_plan_routes import consent_post

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]

COUNTS = (24, 30)  # within policy, beyond the auto-approval envelope's 12: both go to review


def _both_tabs_look_before_either_writes(monkeypatch):
    """Widen the race: a tab that has looked for an open proposal waits (up to 2 s) until the
    other has looked too. Without serialising both see none; with it, the second tab only
    looks once the first has committed, so the first goes on after the timeout."""
    seen = threading.Barrier(2)
    real = lifecycle.open_proposal

    def open_proposal(account):
        found = real(account)
        try:
            seen.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(lifecycle, "open_proposal", open_proposal)


def test_two_tabs_proposing_at_once_leave_one_proposal_in_review(app, login_as, make_cardholder,
                                                                   make_account, monkeypatch):
    holder = make_cardholder()
    account = make_account(holder, principal=500_000, interest=20_000, fees=15_000)
    first = (today_for(account) + timedelta(days=7)).isoformat()
    tabs, pages = [], []
    for count in COUNTS:  # each tab has read and ticked its own terms
        tab = app.test_client()
        login_as(tab, holder)
        pages.append(tab.get(f"/accounts/{account.id}/plans/confirm?kind=instalment"
                             f"&count={count}&frequency=monthly&first_date={first}"
                             f"&down_payment=0&source=proposal"))
        assert "needs a review" in pages[-1].get_data(as_text=True)
        tabs.append(tab)

    _both_tabs_look_before_either_writes(monkeypatch)
    results, errors = run_together(
        app, lambda i: (i, consent_post(tabs[i], pages[i], account.id)), 2)

    assert errors == [] and sorted(i for i, _ in results) == [0, 1]
    _db.session.expire_all()
    plans = _db.session.scalars(select(Plan).where(Plan.account_id == account.id)).all()
    assert [p.status for p in plans] == [PlanStatus.IN_REVIEW]
    [kept] = plans
    where = {i: r.headers["Location"] for i, r in results}
    winner = COUNTS.index(kept.instalment_count)
    assert where[winner].endswith(f"/accounts/{account.id}/plans/{kept.id}")
    assert where[1 - winner].endswith(f"/accounts/{account.id}/plans")
    html = tabs[1 - winner].get(where[1 - winner]).get_data(as_text=True)
    assert "You already have a proposal waiting for our reply." in html
