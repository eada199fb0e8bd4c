"""Collectors' plan pages: the agreed-plans list (status filter, next due date, instalments paid
and missed) and a counter-offer beyond a collector's authority, refused on the server."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.plans import endings, services
from portal.plans.models import InstalmentStatus, Plan, PlanStatus
from tests.helpers import token_in
from tests.integration.plan_helpers import TODAY, agree, spec


def _row(html: str, plan_id: int) -> list[str] | None:
    """The agreed-plans table row of `plan_id` as its cells' text, or None when absent."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if f">#{plan_id}</a>" in row:
            return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                       row, re.S)]
    return None


@pytest.fixture()
def kept_and_cancelled(app, make_account):
    """An active plan with instalment 1 paid and 2 missed, and a plan agreed then cancelled."""
    with app.test_request_context():
        kept = agree(make_account(), spec(count=6))
        first, second = kept.instalments[:2]
        first.paid_amount, first.status, first.paid_on = first.amount, InstalmentStatus.PAID, TODAY
        second.status, second.missed_on = InstalmentStatus.MISSED, TODAY
        gone = agree(make_account(), spec(count=3))
        endings.cancel(gone, TODAY)
        _db.session.commit()
    return kept, gone


def test_agreed_plans_list_filters_by_status_and_counts_paid_and_missed(
        client, login_as, make_staff, kept_and_cancelled):
    kept, gone = kept_and_cancelled
    login_as(client, make_staff("collector"))
    active = client.get("/staff/plans?status=active").get_data(as_text=True)
    assert _row(active, gone.id) is None
    _plan, account, name, status, next_due, amount, paid, instalments, missed = _row(active, kept.id)
    assert (account, status) == (kept.account.account_number, "Active")
    assert name == kept.account.cardholder.full_name
    assert next_due == "January 5, 2027"  # the missed 2nd instalment is still the next due
    assert kept.instalments[1].due_date.isoformat() == "2027-01-05"
    assert kept.total == 500_000 and amount == "CN¥5,000.00"
    assert paid == "CN¥" + f"{kept.instalments[0].amount / 100:,.2f}"  # money, not a count
    assert (instalments, missed) == ("1 of 6", "1")

    cancelled = client.get("/staff/plans?status=cancelled").get_data(as_text=True)
    assert _row(cancelled, kept.id) is None
    assert _row(cancelled, gone.id)[3:5] == ["Cancelled", ""]  # no next due date once ended
    everything = client.get("/staff/plans").get_data(as_text=True)
    assert _row(everything, kept.id) and _row(everything, gone.id)
    assert f'href="/staff/plans/{kept.id}">#{kept.id}</a>' in everything  # id_link
    # The "1 of 6" pattern is translated once per page and filled in per row (issue 15).
    chinese = client.get("/staff/plans?status=active", headers={"Accept-Language": "zh-CN"})
    assert _row(chinese.get_data(as_text=True), kept.id)[7] == "1 / 6"


def test_collector_counter_offer_beyond_their_authority_is_refused_and_changes_nothing(
        app, client, login_as, make_staff, make_account, outbox):
    account = make_account(principal=500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        _db.session.commit()
    assert plan.status == PlanStatus.IN_REVIEW and plan.required_role == "collector"
    before = (plan.instalment_count, plan.total, plan.terms_hash, len(outbox()))
    login_as(client, make_staff("collector"))
    page = client.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    response = client.post(f"/staff/plans/{plan.id}/counter", data={
        "csrf_token": token_in(page), "kind": "instalment", "count": "48",  # collector: 36 at most
        "frequency": "monthly", "first_date": (TODAY + timedelta(days=7)).isoformat(),
        "discount_percent": "0", "reason": "Four years keeps it affordable."})
    assert response.status_code == 403
    assert "beyond your approval authority" in response.get_data(as_text=True)
    _db.session.expire_all()
    plan = _db.session.get(Plan, plan.id)
    assert plan.status == PlanStatus.IN_REVIEW and plan.proposed_terms is None
    assert (plan.instalment_count, plan.total, plan.terms_hash, len(outbox())) == before
    assert len(plan.instalments) == 24
    assert not _db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "plan.countered"))


def test_agreed_plans_list_shows_money_paid_towards_a_plan_and_the_cardholder(
        app, client, login_as, make_staff, make_account, make_cardholder):
    """Issue 13: "Paid 0" for a plan with $97 paid. The column counted instalments paid in
    full, so a payment smaller than an instalment showed as 0; it now shows the money."""
    holder = make_cardholder(full_name="Emily Carter", timezone="America/New_York")
    account = make_account(holder, currency="USD", profile="us", principal=184_000,
                           minimum_due=5_500, oldest_unpaid_due_date=TODAY - timedelta(days=15))
    with app.test_request_context():
        plan = agree(account, spec(count=6))
        assert plan.status == PlanStatus.ACTIVE and plan.instalments[0].amount > 9_700
        services.apply_payment(account, 9_700, TODAY)
        _db.session.commit()
    login_as(client, make_staff("collector"))
    row = _row(client.get("/staff/plans").get_data(as_text=True), plan.id)
    assert row[2] == "Emily Carter"
    assert row[6:9] == ["$97.00", "0 of 6", "0"]
