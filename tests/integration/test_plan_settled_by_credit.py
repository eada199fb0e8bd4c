"""A plan never asks more than is owed. An upheld dispute credits an account while a plan is
active: the plan asks that much less (last instalments first) and completes when the credit
covers what it still asks. When the issuer lowered the balance below what the plan asks, the
pay page and autopay take only what is owed and the plan completes once nothing is. Before
(85a251d) the plan kept asking for its whole schedule (autopay charged it in full) and, with
nothing owed, was broken by the plan checks."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.balances.services import balance_of, today_for
from portal.disputes import workflow
from portal.extensions import db as _db
from portal.payments import autopay
from portal.payments.models import Payment, PaymentChoice
from portal.payments.services import payment_options
from portal.plans.jobs import run_plan_monitoring
from portal.plans.models import InstalmentStatus, PlanStatus
from tests.dispute_helpers import join, raise_dispute
from tests.integration.payment_helpers import make_active_plan
from tests.integration.plan_pay_helpers import posted
from tests.integration.test_autopay_jobs import autopay_on


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


def test_a_plan_asking_more_than_is_owed_takes_only_what_is_owed_then_completes(
        make_account, make_staff, clock, client, login_as):
    """The issuer lowered the balance below what the plan asks (a payment made at the bank):
    the pay page's instalment choice and autopay never take more than is owed, and the plan
    completes once nothing is owed instead of being broken."""
    account = make_account(principal=20_000, interest=0, fees=0)
    today = today_for(account)
    plan = make_active_plan(account, [30_000, 30_000], today)
    assert payment_options(account).instalment == 20_000
    posted(account, 20_000, PaymentChoice.INSTALMENT)
    _db.session.refresh(plan)
    assert plan.status == PlanStatus.COMPLETED
    completed = _db.session.scalars(select(AuditEvent.after).where(
        AuditEvent.action == "plan.completed")).one()
    assert completed.get("nothing_owed") is True


def test_plan_checks_complete_a_plan_whose_account_owes_nothing(make_account, clock):
    account = make_account(principal=20_000, interest=0, fees=0)
    today = today_for(account)
    plan = make_active_plan(account, [30_000, 30_000], today)
    # Paid at the bank, as the issuer's feed says.
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.ADJUSTMENT,
                                component=Component.PRINCIPAL, amount=-20_000,
                                currency=account.currency, effective_date=today,
                                source_ref="feed:paid-at-bank"))
    _db.session.commit()
    clock.shift(timedelta(days=20))
    summary = run_plan_monitoring()
    assert summary.completed == [plan.id] and summary.broken == []
    _db.session.refresh(plan)
    assert plan.status == PlanStatus.COMPLETED


def test_autopay_charges_no_more_than_is_owed(make_account, clock):
    account = make_account(principal=20_000, interest=0, fees=0)
    plan = make_active_plan(account, [30_000, 30_000], today_for(account))
    autopay_on(account)
    assert autopay.run_autopay() == {"succeeded": 1}
    charged = _db.session.scalars(select(Payment)).one()
    assert charged.amount == 20_000
    _db.session.refresh(plan)
    assert plan.status == PlanStatus.COMPLETED
    assert autopay.run_autopay() == {}


@pytest.mark.parametrize("locale, words", [
    ("en", ("Taken off by dispute credits", "taken off by a dispute credit",
            "Covered by a dispute credit")),
    ("zh_Hans", ("争议退款抵减的金额", "争议退款已抵减", "已由争议退款抵减"))])
def test_the_plan_page_shows_what_credits_took_off_apart_from_what_was_paid(
        make_account, make_cardholder, make_staff, client, login_as, clock, locale, words):
    agent = make_staff("customer_service")
    join("billing", agent, "en", "zh_Hans")
    account = make_account(make_cardholder(locale=locale), principal=90_000, interest=0, fees=0)
    plan = make_active_plan(account, [30_000, 30_000, 30_000],
                            today_for(account) + timedelta(days=7))
    dispute = raise_dispute(account, amount=40_000)
    workflow.resolve(dispute, agent, "upheld", None, "Charged twice.")
    _db.session.commit()
    assert plan.paid_total == 0 and plan.credited_total == 40_000 and plan.paid_early == set()
    login_as(client, account.cardholder)
    html = client.get(f"/accounts/{account.id}/plans/{plan.id}").get_data(as_text=True)
    for text in words:
        assert text in html


def test_paying_off_a_plan_asking_more_than_is_owed_takes_what_is_owed(
        make_account, client, login_as, clock):
    account = make_account(principal=20_000, interest=0, fees=0)
    plan = make_active_plan(account, [30_000, 30_000], today_for(account) + timedelta(days=3))
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/pay").get_data(as_text=True)
    assert "CN¥200.00" in page and "CN¥600.00" not in page
    nonce = page.split('name="nonce" type="hidden" value="')[1].split('"')[0]
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(f"/accounts/{account.id}/pay", data={
        "csrf_token": csrf, "nonce": nonce, "currency": "CNY", "choice": "payoff"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _db.session.scalars(select(Payment)).one().amount == 20_000
    assert plan.status == PlanStatus.ACTIVE
