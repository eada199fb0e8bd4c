"""One authority rule for proposals in review: approve, counter-offer and reject ask the same
question, the page offers only what the server accepts, and proposals whose review reasons
carry amounts and dates open for every reviewer."""
from datetime import timedelta

import pytest

from portal.extensions import db as _db
from portal.plans.models import Plan, PlanStatus
from tests.helpers import token_in
from tests.integration.plan_helpers import TODAY, agree, spec


@pytest.fixture()
def manager_proposal(app, make_account):
    """A proposal in review that needs a collections manager, whose stored review reasons carry
    an amount and a date (as `submit` stores them: text)."""
    account = make_account(principal=500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        plan.required_role = "collections_manager"
        plan.review_reasons = [
            {"code": "down_payment_too_small", "params": {"min": "12345"}},
            {"code": "first_date_too_late", "params": {"latest": "2026-12-28"}},
            {"code": "cooling_off", "params": {"until": "2026-12-01"}},
            {"code": "too_many_instalments", "params": {"max": "12"}},
        ]
        _db.session.commit()
    assert plan.status == PlanStatus.IN_REVIEW
    return plan


def test_review_reasons_with_amounts_and_dates_show_on_the_staff_page(
        client, login_as, make_staff, manager_proposal):
    login_as(client, make_staff("collections_manager"))
    response = client.get(f"/staff/plans/{manager_proposal.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "CN¥123.45" in html and "December 28, 2026" in html and "December 1, 2026" in html


def test_collector_page_offers_no_decision_on_a_proposal_needing_a_manager(
        client, login_as, make_staff, manager_proposal):
    login_as(client, make_staff("collector"))
    html = client.get(f"/staff/plans/{manager_proposal.id}").get_data(as_text=True)
    assert "A collections manager must decide it." in html
    for action in ("approve", "counter", "reject"):
        assert f"/staff/plans/{manager_proposal.id}/{action}" not in html


@pytest.mark.parametrize("action,data", [
    ("approve", {}),
    ("reject", {"reason": "Not affordable."}),
    ("counter", {"kind": "instalment", "count": "6", "frequency": "monthly",
                 "first_date": (TODAY + timedelta(days=7)).isoformat(),
                 "discount_percent": "0", "reason": "Six months works."}),
])
def test_collector_cannot_decide_a_proposal_needing_a_manager_in_any_way(
        client, login_as, make_staff, manager_proposal, outbox, action, data):
    login_as(client, make_staff("collector"))
    page = client.get("/staff/plans/review").get_data(as_text=True)
    before = len(outbox())
    response = client.post(f"/staff/plans/{manager_proposal.id}/{action}",
                           data={"csrf_token": token_in(page), **data})
    assert response.status_code == 403
    assert "beyond your approval authority" in response.get_data(as_text=True)
    _db.session.expire_all()
    plan = _db.session.get(Plan, manager_proposal.id)
    assert plan.status == PlanStatus.IN_REVIEW and plan.decided_by_id is None
    assert len(outbox()) == before


def test_manager_can_reject_a_proposal_needing_a_manager(
        client, login_as, make_staff, manager_proposal):
    login_as(client, make_staff("collections_manager"))
    page = client.get(f"/staff/plans/{manager_proposal.id}").get_data(as_text=True)
    response = client.post(f"/staff/plans/{manager_proposal.id}/reject",
                           data={"csrf_token": token_in(page), "reason": "Not affordable."})
    assert response.status_code == 302
    assert _db.session.get(Plan, manager_proposal.id).status == PlanStatus.REJECTED
