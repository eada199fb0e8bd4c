"""The webhook inbox under real concurrency (PostgreSQL): two workers drain the same inbox
in small batches while requests keep recording deliveries (successes under two event ids,
each delivered twice, late `processing` events and refunds): every event is applied once,
every payment posted once, each refund once, and the audit chains verify."""
from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.services import verify_chain
from portal.extensions import db as _db
from portal.payments import inbox, webhooks
from portal.payments.models import Payment, PaymentReversal, WebhookEvent
from portal.payments.states import PaymentStatus
from portal.timeutil import utcnow
from tests.integration.payment_helpers import intent_event, processing_payment
from tests.integration.test_webhook_inbox import _refund

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


def test_two_workers_and_arriving_requests_apply_each_event_once(app, make_account, clock):
    accounts = [make_account(principal=400_000, minimum_due=60_000) for _ in range(3)]
    payments = [processing_payment(a, 7_000 + 10 * n + i, f"race_inbox_{a.id}_{i}")
                for n, a in enumerate(accounts) for i in range(4)]
    _db.session.commit()
    events = []
    for p in payments:
        events += [intent_event(p, event_id=f"evt_ri_{p.id}_{k}") for k in range(2)]
        events.append(intent_event(p, "payment_intent.processing", f"evt_ri_{p.id}_late",
                                   status="processing"))
    refunded = payments[::3]
    events = events * 2  # each delivered twice
    events += [_refund(p, "race", p.id) for p in refunded] * 2
    arriving = threading.Event()

    def deliver(event) -> bool:
        with app.app_context():
            try:
                recorded = webhooks.record_pending(event, provider="sandbox")
                _db.session.commit()
                return recorded
            finally:
                _db.session.remove()

    def work() -> int:
        done = 0
        with app.app_context():
            try:
                while True:
                    counts = inbox.drain(3)
                    done += counts["done"]
                    if not counts["claimed"]:
                        if not arriving.is_set():
                            return done
                        time.sleep(0.01)
            finally:
                _db.session.remove()

    arriving.set()
    # the refunds come last, after their payments' successes were recorded
    with ThreadPoolExecutor(6) as pool:
        workers = [pool.submit(work) for _ in range(2)]
        recorded = list(pool.map(deliver, events))
        arriving.clear()
        done = sum(w.result() for w in workers)  # an exception in a worker fails the test
    # A refund whose success a deadlocked batch was still retrying one by one asked the
    # provider (which knows nothing of these test payments) and waits for its retry time.
    clock.move_to(utcnow() + timedelta(hours=2))
    done += inbox.drain()["done"]
    distinct = len({e["id"] for e in events})
    assert sum(recorded) == distinct == done
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count()).select_from(WebhookEvent).where(
        WebhookEvent.state != "done")) == 0
    posted = _db.session.scalars(select(Payment).where(
        Payment.id.in_([p.id for p in payments]))).all()
    assert {p.status for p in posted} <= {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}
    for p in posted:
        paid = _db.session.scalars(select(LedgerEntry.amount).where(
            LedgerEntry.account_id == p.account_id, LedgerEntry.kind == EntryKind.PAYMENT,
            LedgerEntry.source_ref.like(f"payment:{p.id}:%"))).all()
        assert -sum(paid) == p.amount  # posted once
        reversals = _db.session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == p.id)).all()
        assert len(reversals) == (1 if p.id in {r.id for r in refunded} else 0)
    for a in accounts:  # the three payments share each account's minimum, as one by one
        assert sum(p.toward_minimum for p in posted if p.account_id == a.id) <= 60_000
    assert verify_chain()[1] is None
