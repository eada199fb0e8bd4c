"""PostgreSQL: simultaneous confirmations and duplicate webhooks post once."""
from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.extensions import db
from portal.payments import services, webhooks
from portal.payments.models import Payment, SandboxIntent
from portal.payments.sandbox import event_for, signed
from tests.helpers import run_together

pytestmark = pytest.mark.postgres
if not os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)", allow_module_level=True)


def _started(account):
    payment = services.open_payment(account, choice="overdue", other_amount=None,
                                    currency=account.currency, nonce=services.issue_nonce(account))
    db.session.commit()
    services.ensure_intent(payment)
    row = db.session.get(SandboxIntent, payment.provider_ref)
    row.status = "succeeded"
    db.session.commit()
    return payment


def _posted(account_id):
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account_id, LedgerEntry.kind == EntryKind.PAYMENT)))


def test_simultaneous_confirmations_post_once(app, db, make_account):
    account = make_account(oldest_unpaid_due_date=date(2026, 10, 1))  # something overdue
    payment = _started(account)
    payment_id, amount, account_id = payment.id, payment.amount, account.id
    _, errors = run_together(
        app, lambda i: services.refresh(db.session.get(Payment, payment_id)), 6)
    assert not errors
    assert _posted(account_id) == -amount


def test_duplicate_webhooks_at_once_post_once(app, db, make_account):
    account = make_account(oldest_unpaid_due_date=date(2026, 10, 1))  # something overdue
    payment = _started(account)
    row = db.session.get(SandboxIntent, payment.provider_ref)
    event = event_for(row, "payment_intent.succeeded")
    payload, signature = signed(event)
    amount, account_id = payment.amount, account.id
    others = [signed(event_for(row, "payment_intent.succeeded")) for _ in range(3)]
    deliveries = [(payload, signature)] * 3 + others
    _, errors = run_together(app, lambda i: webhooks.receive(*deliveries[i]), len(deliveries))
    assert not errors
    assert _posted(account_id) == -amount


def test_two_tabs_opening_the_full_balance_at_once_open_one_payment(app, db, make_account):
    account = make_account(oldest_unpaid_due_date=date(2026, 10, 1))
    account_id = account.id

    def open_full(i):
        holder = db.session.get(Account, account_id)
        try:
            services.open_payment(holder, choice="full", other_amount=None,
                                  currency=holder.currency, nonce=services.issue_nonce(holder))
            db.session.commit()
            return "opened"
        except services.PaymentRefused as exc:
            db.session.rollback()
            return exc.code

    outcomes, errors = run_together(app, open_full, 4, request_context=True)
    assert not errors
    assert sorted(outcomes) == ["in_flight", "in_flight", "in_flight", "opened"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
