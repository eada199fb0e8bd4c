"""Every form that takes an amount reads it the same way (portal.core.forms.MoneyField): the same
messages on the field for what is refused, nothing saved, and "12,000.00" read as 12000.00."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.core.forms import ungrouped
from portal.disputes.models import Dispute, DisputeRoutingRule
from portal.disputes.rules import DisputeStatus
from portal.extensions import db as _db
from portal.legal.models import LegalAction
from portal.payments.models import Payment
from tests.dispute_helpers import csrf, join, queue, raise_dispute
from tests.integration.legal_helpers import freeze, late_account, refer
from tests.integration.payment_helpers import form_tokens, only_payment, pay_with_card, \
    start_payment

BAD = [
    ("12a", "Enter an amount in numbers only, such as 1250.50."),
    ("12.345", "Enter the amount with no more decimal places than the currency has."),
    ("-5.00", "Enter an amount of zero or more."),
    ("12,00", "Enter an amount in numbers only, such as 1250.50."),
]


def row_counts() -> dict[str, int]:
    """Rows in every table: a refused amount must leave all of them as they were."""
    _db.session.expire_all()
    return {t.name: _db.session.scalar(select(func.count()).select_from(t))
            for t in _db.metadata.sorted_tables}


def submit(client, action, data, *, page=None, prefix="", **kwargs):
    """POST `data` with the CSRF token of `page` (default `action`); returns the row counts
    taken just before the POST, and the response."""
    data[f"{prefix}csrf_token"] = csrf(client, page or action)
    before = row_counts()
    return before, client.post(action, data=data, **kwargs)


def assert_refused_on_field(posted, status, message, typed):
    """The message is on the field, what was typed is kept, and no table gained or lost a row."""
    before, response = posted
    assert row_counts() == before
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in page
    assert 'aria-invalid="true"' in page and f'value="{typed}"' in page


@pytest.mark.parametrize("text, expected", [
    ("12,000.00", "12000.00"), (" 1,250 ", "1250"), ("-1,000", "-1000"),
    ("1,234,567.8", "1234567.8"),
    ("12,00", "12,00"), ("12,0000", "12,0000"), (",100", ",100"), ("12 000", "12 000"),
    ("1250.50", "1250.50"),
])
def test_only_commas_grouping_digits_in_threes_are_dropped(text, expected):
    assert ungrouped(text) == expected


# Legal: recording a step with an amount ----------------------------------------------------

@pytest.fixture()
def referred(make_account, monkeypatch, clock):
    freeze(clock)
    account = late_account(make_account)  # CNY 12,350.00 outstanding
    refer(account)
    return account


@pytest.fixture()
def legal_client(app, login_as, make_staff):
    return login_as(app.test_client(), make_staff("legal"))


def post_legal(client, account, amount):
    path = f"/staff/legal/accounts/{account.id}"
    return submit(client, f"{path}/actions", {
        "kind": "claim_filed", "occurred_on": "2026-11-20", "hearing_on": "",
        "court_reference": "", "amount": amount, "note": ""}, page=path)


@pytest.mark.parametrize("typed, message", BAD)
def test_legal_step_with_a_bad_amount_is_refused_on_the_field(legal_client, referred, typed,
                                                              message):
    posted = post_legal(legal_client, referred, typed)
    assert_refused_on_field(posted, 422, message, typed)


def test_legal_step_with_a_good_amount_is_recorded(legal_client, referred):
    _, response = post_legal(legal_client, referred, "12000.50")
    assert response.status_code == 302
    assert _db.session.scalar(select(LegalAction.amount)) == 1_200_050


# Disputes: the cardholder's contested amount ----------------------------------------------

def post_dispute(client, account, amount):
    return submit(client, f"/accounts/{account.id}/disputes/new", {
        "category": "wrong_amount", "amount": amount, "description": "Charged twice."},
        content_type="multipart/form-data")


@pytest.mark.parametrize("typed, message", BAD)
def test_dispute_with_a_bad_amount_is_refused_on_the_field(client, login_as, make_account, typed,
                                                           message):
    account = make_account(principal=500_000, oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, account.cardholder)
    posted = post_dispute(client, account, typed)
    assert_refused_on_field(posted, 400, message, typed)


def test_dispute_with_a_good_amount_is_raised(client, login_as, make_account):
    account = make_account(principal=500_000, oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, account.cardholder)
    _, response = post_dispute(client, account, "120.50")
    assert response.status_code == 302
    assert _db.session.scalar(select(Dispute.contested_amount)) == 12_050


def test_legal_and_disputes_read_a_grouped_amount_the_same_way(
        client, login_as, legal_client, referred):
    _, recorded = post_legal(legal_client, referred, "12,000.00")
    login_as(client, referred.cardholder)
    _, raised = post_dispute(client, referred, "12,000.00")
    assert (recorded.status_code, raised.status_code) == (302, 302)
    assert _db.session.scalar(select(LegalAction.amount)) == 1_200_000
    assert _db.session.scalar(select(Dispute.contested_amount)) == 1_200_000


def test_legal_and_disputes_refuse_a_badly_grouped_amount_the_same_way(
        client, login_as, legal_client, referred):
    message = "Enter an amount in numbers only, such as 1250.50."
    recorded = post_legal(legal_client, referred, "12,0000.00")
    login_as(client, referred.cardholder)
    raised = post_dispute(client, referred, "12,0000.00")
    assert_refused_on_field(recorded, 422, message, "12,0000.00")
    assert_refused_on_field(raised, 400, message, "12,0000.00")


# Disputes: the amount staff credit when resolving -----------------------------------------

@pytest.fixture()
def open_dispute(client, login_as, make_account, make_staff):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    dispute = raise_dispute(make_account(principal=500_000), amount=30_000)
    login_as(client, agent)
    return dispute


def post_resolve(client, dispute, amount):
    page = f"/staff/disputes/{dispute.id}"
    return submit(client, f"{page}/resolve", {
        "res-outcome": "partly", "res-amount": amount,
        "res-reason": "One of the two charges was wrong."}, page=page, prefix="res-")


@pytest.mark.parametrize("typed, message", BAD)
def test_resolving_with_a_bad_amount_is_refused_on_the_field(client, open_dispute, typed,
                                                             message):
    posted = post_resolve(client, open_dispute, typed)
    assert_refused_on_field(posted, 422, message, typed)
    assert "One of the two charges was wrong." in posted[1].get_data(as_text=True)
    dispute = _db.session.get(Dispute, open_dispute.id)
    assert dispute.status == DisputeStatus.OPEN and dispute.resolution_amount is None


def test_resolving_with_a_good_amount_credits_it(client, open_dispute):
    _, response = post_resolve(client, open_dispute, "100.00")
    assert response.status_code == 302
    _db.session.expire_all()
    dispute = _db.session.get(Dispute, open_dispute.id)
    assert dispute.status == DisputeStatus.RESOLVED_PARTLY and dispute.resolution_amount == 10_000


# Disputes: routing-rule amount bounds -------------------------------------------------------

def post_rule(client, min_amount):
    return submit(client, "/staff/disputes/setup/rules", {
        "priority": "1", "category": "wrong_amount", "language": "", "min_amount": min_amount,
        "max_amount": "", "currency": "CNY", "queue": str(queue("fraud").id)})


@pytest.mark.parametrize("typed, message", BAD)
def test_rule_with_a_bad_bound_is_refused_on_the_field(client, login_as, make_staff, typed,
                                                       message):
    login_as(client, make_staff("collections_manager"))
    posted = post_rule(client, typed)
    assert_refused_on_field(posted, 400, message, typed)


def test_rule_with_a_good_bound_is_saved(client, login_as, make_staff):
    login_as(client, make_staff("collections_manager"))
    _, response = post_rule(client, "1,000.00")
    assert response.status_code == 302
    assert _db.session.scalar(select(DisputeRoutingRule.min_amount).where(
        DisputeRoutingRule.priority == 1)) == 100_000


# Payments: the cardholder's "another amount" ------------------------------------------------

@pytest.fixture()
def payer(client, login_as, make_account):
    account = make_account(principal=400_000, interest=20_000, fees=10_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, account.cardholder)
    return account


def post_other(client, account, amount):
    tokens = form_tokens(client.get(f"/accounts/{account.id}/pay").get_data(as_text=True))
    data = {"csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
            "currency": tokens["currency"], "choice": "other", "other_amount": amount}
    before = row_counts()
    return before, client.post(f"/accounts/{account.id}/pay", data=data)


@pytest.mark.parametrize("typed, message", BAD + [("", "Please enter an amount such as 100.00.")])
def test_paying_a_bad_other_amount_is_refused_on_the_field(client, payer, typed, message):
    posted = post_other(client, payer, typed)
    assert_refused_on_field(posted, 422, message, typed)


def test_paying_a_good_other_amount_opens_the_payment(client, payer):
    _, response = post_other(client, payer, "1,000.00")
    assert response.status_code == 302
    assert only_payment(payer.id).amount == 100_000


# Payments: the refund staff make ------------------------------------------------------------

@pytest.fixture()
def refund_desk(app, client, payer, make_staff, login_as):
    """A collections manager's client and a payment the cardholder has made."""
    start_payment(client, payer, "overdue")
    pay_with_card(client, only_payment(payer.id).id)
    return (login_as(app.test_client(), make_staff("collections_manager")),
            only_payment(payer.id))


def post_refund(manager, payment, amount):
    tokens = form_tokens(manager.get(f"/staff/payments/{payment.id}").get_data(as_text=True))
    data = {"csrf_token": tokens["csrf_token"], "request_key": tokens["request_key"],
            "amount": amount, "reason": "paid twice"}
    before = row_counts()
    return before, manager.post(f"/staff/payments/{payment.id}/refund", data=data)


@pytest.mark.parametrize("typed, message", BAD)
def test_refunding_a_bad_amount_is_refused_on_the_field(refund_desk, typed, message):
    manager, paid = refund_desk
    posted = post_refund(manager, paid, typed)
    assert_refused_on_field(posted, 422, message, typed)
    assert "paid twice" in posted[1].get_data(as_text=True)
    assert _db.session.get(Payment, paid.id).refunded_amount == 0


def test_refunding_a_good_amount_refunds_it(refund_desk):
    manager, paid = refund_desk
    _, response = post_refund(manager, paid, "100.00")
    assert response.status_code == 302
    assert only_payment(paid.account_id).refunded_amount == 10_000
