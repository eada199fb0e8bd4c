"""A plan is priced on the day it starts (issue 11, item 4): approving a proposal after review
prices it again from that day's balance. A payment made during review is not collected twice
through the schedule, interest posted during review is not left owing after the plan
completes, and changed terms wait for the cardholder's consent, with escalation unchanged."""
from datetime import datetime, timedelta, timezone

import pytest

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.plans import decisions, lifecycle
from portal.plans.models import Plan, PlanStatus
from portal.plans.services import plan_pause
from tests.access_fixtures import csrf_fields
from tests.helpers import token_in
from tests.integration.collections_helpers import pay
from tests.integration.plan_helpers import TODAY, agree, spec

NEXT_DAY = TODAY + timedelta(days=1)


@pytest.fixture()
def proposal(app, make_account):
    """CN¥4,300 in 6 weekly payments: weekly is outside the auto-approval envelope, so it
    waits for review."""
    account = make_account(principal=430_000)
    with app.test_request_context():
        plan = agree(account, spec(count=6, frequency="weekly"), source="proposal")
        _db.session.commit()
    assert plan.status == PlanStatus.IN_REVIEW and plan.total == 430_000
    return plan


def _approve(app, plan, staff):
    with app.test_request_context():
        active = decisions.approve(plan, staff, NEXT_DAY)
        _db.session.commit()
    return active


def _reconsent(app, plan, today=NEXT_DAY):
    with app.test_request_context():
        terms_hash = lifecycle.plan_hash(plan, "en")
        consent = lifecycle.Consent(terms_hash, "en", "203.0.113.9", "pytest",
                                    datetime(2026, 11, 29, 9, tzinfo=timezone.utc))
        active = decisions.accept_counter(plan, consent, today)
        _db.session.commit()
    return active, terms_hash


def test_payment_during_review_is_not_collected_again_through_the_schedule(
        app, clock, make_staff, proposal):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 50_000, NEXT_DAY)
    assert _approve(app, proposal, make_staff("collector")) is False
    assert proposal.status == PlanStatus.COUNTERED and proposal.terms_hash is None
    assert proposal.total == 380_000
    assert sum(i.amount for i in proposal.instalments) == 380_000
    assert len(proposal.instalments) == 6
    assert proposal.repriced["paid"] == 50_000
    assert proposal.repriced["balance_before"] == 430_000
    assert plan_pause(proposal.account, NEXT_DAY) is None  # escalation as before


def test_interest_posted_during_review_is_included_and_needs_consent(
        app, clock, make_staff, proposal):
    clock.shift(timedelta(days=1))
    _db.session.add(LedgerEntry(account_id=proposal.account_id, kind=EntryKind.INTEREST,
                                component=Component.INTEREST, amount=1_001, currency="CNY",
                                effective_date=NEXT_DAY, source_ref="test-interest:1"))
    _db.session.commit()
    assert _approve(app, proposal, make_staff("collector")) is False
    assert proposal.status == PlanStatus.COUNTERED
    assert proposal.total == 431_001 == sum(i.amount for i in proposal.instalments)
    assert proposal.instalments[-1].amount >= proposal.instalments[0].amount  # remainder last
    assert proposal.repriced["interest"] == 1_001


def test_unchanged_balance_activates_at_approval_as_before(app, clock, make_staff, proposal):
    clock.shift(timedelta(days=1))
    consented = proposal.terms_hash
    assert _approve(app, proposal, make_staff("collector")) is True
    assert proposal.status == PlanStatus.ACTIVE and proposal.started_on == NEXT_DAY
    assert proposal.total == 430_000 and proposal.terms_hash == consented
    assert proposal.repriced is None


def test_cardholder_consent_to_repriced_terms_activates_the_new_schedule(
        app, clock, make_staff, proposal):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 50_000, NEXT_DAY)
    _approve(app, proposal, make_staff("collector"))
    active, terms_hash = _reconsent(app, proposal)
    assert active is True
    assert proposal.status == PlanStatus.ACTIVE and proposal.terms_hash == terms_hash
    assert proposal.total == 380_000 == sum(i.amount for i in proposal.instalments)
    assert plan_pause(proposal.account, NEXT_DAY) is not None


def test_balance_changing_again_before_consent_asks_again(app, clock, make_staff, proposal):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 50_000, NEXT_DAY)
    _approve(app, proposal, make_staff("collector"))
    clock.shift(timedelta(hours=1))
    pay(proposal.account, 30_000, NEXT_DAY)
    active, _hash = _reconsent(app, proposal)
    assert active is False
    assert proposal.status == PlanStatus.COUNTERED and proposal.terms_hash is None
    assert proposal.total == 350_000 == sum(i.amount for i in proposal.instalments)
    assert proposal.repriced["paid"] == 30_000


def test_cardholder_sees_why_the_terms_changed_and_agrees_on_the_page(
        app, client, clock, login_as, make_staff, proposal):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 50_000, NEXT_DAY)
    _approve(app, proposal, make_staff("collector"))
    login_as(client, proposal.account.cardholder)
    page_url = f"/accounts/{proposal.account_id}/plans/{proposal.id}"
    html = client.get(page_url).get_data(as_text=True)
    assert "A payment of CN¥500.00 was received." in html
    assert "CN¥4,300.00" in html and "CN¥3,800.00" in html
    with app.test_request_context():
        terms_hash = lifecycle.plan_hash(proposal, "en")
    assert f'value="{terms_hash}"' in html
    response = client.post(f"{page_url}/accept", data={
        "csrf_token": token_in(html), "terms_hash": terms_hash, "consent": "y"})
    assert response.status_code == 302
    _db.session.expire_all()
    plan = _db.session.get(Plan, proposal.id)
    assert plan.status == PlanStatus.ACTIVE and plan.terms_hash == terms_hash


def test_staff_approval_page_says_the_cardholder_must_agree_again(
        client, clock, login_as, make_staff, proposal):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 50_000, NEXT_DAY)
    login_as(client, make_staff("collector"))
    page = client.get(f"/staff/plans/{proposal.id}").get_data(as_text=True)
    assert "is CN¥3,800.00 today" in page
    response = client.post(f"/staff/plans/{proposal.id}/approve",
                           data={"csrf_token": token_in(page)}, follow_redirects=True)
    assert "asked to agree to the new terms" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Plan, proposal.id).status == PlanStatus.COUNTERED
    html = client.get(f"/staff/plans/{proposal.id}").get_data(as_text=True)
    assert "the total was CN¥4,300.00 and is CN¥3,800.00" in html


@pytest.mark.parametrize("who", ["other", "staff", "anonymous"])
def test_only_the_owner_can_agree_to_repriced_terms(
        app, client, clock, login_as, make_cardholder, make_staff, proposal, who):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 50_000, NEXT_DAY)
    _approve(app, proposal, make_staff("collector"))
    with app.test_request_context():
        terms_hash = lifecycle.plan_hash(proposal, "en")
    if who == "other":
        login_as(client, make_cardholder())
    elif who == "staff":
        login_as(client, make_staff("collections_manager"))
    response = client.post(f"/accounts/{proposal.account_id}/plans/{proposal.id}/accept",
                           data={**csrf_fields(client), "terms_hash": terms_hash, "consent": "y"})
    expected = {"other": 404, "staff": 403, "anonymous": 302}[who]
    assert response.status_code == expected
    if who == "anonymous":
        assert response.headers["Location"].startswith("/login")
    _db.session.expire_all()
    assert _db.session.get(Plan, proposal.id).status == PlanStatus.COUNTERED


def test_approval_is_refused_when_policy_no_longer_allows_the_terms_on_todays_balance(
        client, clock, login_as, make_staff, proposal):
    clock.shift(timedelta(days=1))
    pay(proposal.account, 400_000, NEXT_DAY)  # CN¥300 left: six payments below the minimum
    login_as(client, make_staff("collector"))
    page = client.get(f"/staff/plans/{proposal.id}").get_data(as_text=True)
    response = client.post(f"/staff/plans/{proposal.id}/approve",
                           data={"csrf_token": token_in(page)}, follow_redirects=True)
    assert "Each payment must be at least CN¥100.00." in response.get_data(as_text=True)
    _db.session.expire_all()
    plan = _db.session.get(Plan, proposal.id)
    assert plan.status == PlanStatus.IN_REVIEW and plan.total == 430_000
