"""A collector reviewing a proposal sees the account as the dispute and legal pages show it:
balance, the recent ledger and the payment history, beside the proposed terms."""
from datetime import date, timedelta

import pytest

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.payments.models import Payment, PaymentChoice
from portal.payments.states import PaymentStatus
from tests.integration.plan_helpers import TODAY, agree, spec


@pytest.fixture()
def proposal(app, make_account):
    account = make_account(principal=500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    paid_on = date(2026, 11, 20)
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                                component=Component.PRINCIPAL, amount=-12_345,
                                currency="CNY", effective_date=paid_on, source_ref="payment:77"))
    _db.session.add(Payment(account_id=account.id, choice=PaymentChoice.OTHER, amount=12_345,
                            currency="CNY", provider="sandbox", idempotency_key="plans2-k1",
                            status=PaymentStatus.SUCCEEDED, paid_on=paid_on,
                            receipt_number="R-plans2-1"))
    _db.session.commit()
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        _db.session.commit()
    return plan


def _section(html: str, heading: str, following: str) -> str:
    start = html.index(f"<h3>{heading}</h3>")
    return html[start:html.index(f"<h3>{following}</h3>", start)]


def test_review_page_shows_recent_ledger_entries_and_payments(client, login_as, make_staff,
                                                              proposal):
    login_as(client, make_staff("collector"))
    html = client.get(f"/staff/plans/{proposal.id}").get_data(as_text=True)
    assert "Account (read only)" in html and proposal.account.account_number in html
    ledger = _section(html, "Ledger", "Plans")
    assert "November 20, 2026" in ledger and "123.45" in ledger  # the payment entry
    assert "5,000.00" in ledger  # the statement balance's principal
    payments = _section(html, "Payments", "Letters")
    assert "November 20, 2026" in payments and "123.45" in payments
    assert "Approve" in html or "beyond your approval authority" in html  # still the review page


def test_account_context_names_plan_and_payment_statuses_in_the_readers_language(
        client, login_as, make_staff, proposal):
    login_as(client, make_staff("collector"))
    html = client.get(f"/staff/plans/{proposal.id}").get_data(as_text=True)
    plans = _section(html, "Plans", "Payments")
    assert "in_review" not in plans and "Waiting for our review" in plans
    payments = _section(html, "Payments", "Letters")
    assert "succeeded" not in payments and "Posted" in payments
