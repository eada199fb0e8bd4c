"""PostgreSQL: simultaneous confirmations and duplicate webhooks post once."""
from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
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
