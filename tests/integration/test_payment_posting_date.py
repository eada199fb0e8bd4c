"""A payment takes effect on the cardholder's local day of the provider's success, not on the
day its webhook happened to arrive."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.extensions import db
from portal.payments.models import SandboxIntent
from tests.integration.payment_helpers import (intent_event, only_payment, signed_event,
                                               start_payment)

# 00:10 on 29 November in Shanghai: the webhook arrives just after midnight.
ARRIVAL = datetime(2026, 11, 28, 16, 10, tzinfo=timezone.utc)
# 23:30 on 28 November in Shanghai: when the provider says the payment succeeded.
SUCCEEDED = datetime(2026, 11, 28, 15, 30, tzinfo=timezone.utc)


@pytest.fixture()
def started(make_account, login_as, client):
    account = make_account(principal=400_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))  # cardholder in Shanghai
    login_as(client, account.cardholder)
    start_payment(client, account, "overdue")
    payment = only_payment(account.id)
    client.get(f"/payments/{payment.id}/checkout")
    payment = only_payment(account.id)
    db.session.get(SandboxIntent, payment.provider_ref).status = "succeeded"
    db.session.commit()
    return payment


def _deliver(client, payment, clock, created=None, event_id="evt_late"):
    clock.move_to(ARRIVAL)
    event = intent_event(payment, event_id=event_id)
    if created is not None:
        event["created"] = int(created.timestamp())
    payload, headers = signed_event(event)
    response = client.post("/webhooks/payments", data=payload, headers=headers)
    assert response.get_json()["outcome"] == "processed"
    return only_payment(payment.account_id)


def _payment_entry_dates(account_id):
    return set(db.session.scalars(select(LedgerEntry.effective_date).where(
        LedgerEntry.account_id == account_id, LedgerEntry.kind == EntryKind.PAYMENT)))


def test_payment_at_2330_shanghai_with_webhook_after_midnight_counts_for_that_day(
        client, started, clock):
    paid = _deliver(client, started, clock, created=SUCCEEDED)
    assert paid.paid_on == date(2026, 11, 28)
    assert _payment_entry_dates(started.account_id) == {date(2026, 11, 28)}
    assert paid.receipt_number.startswith("R20261128-")


def test_without_a_provider_time_the_payment_counts_for_the_day_we_saw_it(
        client, started, clock):
    paid = _deliver(client, started, clock, created=None)
    assert paid.paid_on == date(2026, 11, 29)
    assert _payment_entry_dates(started.account_id) == {date(2026, 11, 29)}


def test_a_provider_time_in_the_future_never_dates_a_payment_after_today(
        client, started, clock):
    paid = _deliver(client, started, clock,
                    created=datetime(2026, 12, 5, 4, tzinfo=timezone.utc))
    assert paid.paid_on == date(2026, 11, 29)
