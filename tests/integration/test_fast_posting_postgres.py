"""The fast webhook posting (portal/payments/fast_posting.py) gives exactly what `post_success`
gives: Hypothesis over accounts (balance, minimum, due date, time zone, an active plan or
not, the nightly run past the payments' days or not) and deliveries (successes dated on
various days, duplicates, late `processing` events, in any order). Two accounts with the same
history, one posted with the fast path on, one with it off: the same ledger entries,
allocations, payment rows, plan instalments, audit events (and the chain verifies) and
outbox messages. Plus real concurrency: the same success delivered at once from several
sessions posts once, and a duplicate never waits on the payment's lock (PostgreSQL only)."""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select, text

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.consequences.models import AccountNightlyState
from portal.extensions import db as _db
from portal.outbox.models import OutboxMessage
from portal.payments import fast_posting, webhooks
from portal.payments.models import Payment
from portal.payments.states import PaymentStatus
from portal.plans.models import Plan, PlanInstalment
from tests.clock import BASE, TODAY
from tests.integration.payment_helpers import (
    intent_event, make_active_plan, processing_payment, signed_event,
)

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


@contextmanager
def _fast(on: bool):
    if on:
        yield
        return
    with mock.patch.object(fast_posting, "usable", lambda: False):
        yield


def _deliver(client, event) -> str:
    payload, headers = signed_event(event)
    response = client.post("/webhooks/payments", data=payload, headers=headers)
    assert response.status_code == 200
    return response.get_json()["outcome"]


def _history(make_account, spec, tag):
    account = make_account(principal=spec["principal"], interest=spec["interest"],
                           fees=spec["fees"], minimum_due=spec["minimum"],
                           oldest_unpaid_due_date=spec["due"])
    account.cardholder.timezone = spec["zone"]
    if spec["plan"]:
        make_active_plan(account, spec["plan"], TODAY - timedelta(days=3))
    if spec["walked"] is not None:
        _db.session.add(AccountNightlyState(account_id=account.id, stage="early",
                                            last_processed_day=TODAY - timedelta(
                                                days=spec["walked"])))
    payments = []
    for n, (amount, other, _days) in enumerate(spec["payments"]):
        payments.append(processing_payment(account, amount, f"{tag}_{account.id}_{n}",
                                           other=other))
    _db.session.commit()
    return account, payments


def _events(payments, spec, tag):
    events = []
    for (n, kind) in spec["order"]:
        payment = payments[n]
        days = spec["payments"][n][2]
        if kind == "late":
            event = intent_event(payment, "payment_intent.processing", f"evt_{tag}_{n}_late",
                                 status="processing")
        else:  # a duplicate is the same event (the same id) delivered again
            event = intent_event(payment, event_id=f"evt_{tag}_{payment.account_id}_{n}")
        event["created"] = int((BASE - timedelta(days=days, hours=days * 5)).timestamp())
        events.append(event)
    return events


def _facts(account, payments):
    """What a user, the ledger and the auditors see, with this history's ids replaced."""
    _db.session.expire_all()
    ids = {p.id: f"p{n}" for n, p in enumerate(payments)}
    plan = _db.session.scalar(select(Plan).where(Plan.account_id == account.id))
    seqs = {i.id: i.seq for i in plan.instalments} if plan else {}

    def ref(text):
        for pid, name in ids.items():
            text = text.replace(f"payment:{pid}:", f"payment:{name}:").replace(
                f"-{pid:07d}", f"-{name}")
        return text

    def plain(value, key=None):
        if isinstance(value, dict):
            return {k: plain(v, k) for k, v in value.items()}
        if key == "receipt" and isinstance(value, str):
            return ref(value)
        if key in ("plan_application", "applied", "paid_ahead") and isinstance(value, list) \
                and all(isinstance(pair, list) and len(pair) == 2 for pair in value):
            return [[seqs.get(i, i), a] for i, a in value]  # [[instalment id, amount]]
        if key == "paid_ahead" and isinstance(value, list):
            return [seqs.get(i, i) if isinstance(i, int) else plain(i, key) for i in value]
        if key == "payment_id":
            return ids.get(value, value)
        if key == "entries" and isinstance(value, list):
            return len(value)  # ledger entry ids
        return value

    entries = sorted((e.kind.value, e.component.value, e.amount, e.effective_date,
                      ref(e.source_ref)) for e in _db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                  LedgerEntry.kind != EntryKind.STATEMENT_BALANCE)))
    rows = [(p.status.value, p.allocation, p.toward_minimum, p.paid_on,
             ref(p.receipt_number or ""), plain({"plan_application": p.plan_application}),
             p.failure_code, p.refunded_amount, bool(p.posted_at))
            for p in _db.session.scalars(select(Payment).where(Payment.id.in_(ids))
                                         .order_by(Payment.id))]
    instalments = [(i.seq, i.paid_amount, i.status.value) for i in plan.instalments] \
        if plan else []
    audit = [(e.seq, e.action, e.subject_type,
              ids.get(int(e.subject_id), "?") if e.subject_type == "payment" else e.subject_type,
              e.actor_type, plain(e.before), plain(e.after))
             for e in _db.session.scalars(select(AuditEvent).where(
                 AuditEvent.stream == f"account:{account.id}").order_by(AuditEvent.seq))]
    messages = [(m.channel, m.subject, re.sub(r"/opt-out/\S+", "/opt-out/-", ref(m.body)),
                 m.purpose, m.kind.value)
                for m in _db.session.scalars(select(OutboxMessage).where(
                    OutboxMessage.account_id == account.id).order_by(OutboxMessage.id))]
    return dict(entries=entries, payments=rows, plan=(plan.status.value if plan else None,
                                                       instalments),
                audit=audit, outbox=messages)


_payment = st.tuples(st.integers(1, 400_000), st.booleans(), st.integers(0, 6))


@st.composite
def _spec(draw):
    payments = draw(st.lists(_payment, min_size=1, max_size=4))
    deliveries = [(n, "succeeded") for n in range(len(payments))]
    deliveries += draw(st.lists(st.tuples(st.integers(0, len(payments) - 1),
                                          st.sampled_from(["succeeded", "late"])), max_size=3))
    return dict(
        principal=draw(st.integers(0, 600_000)), interest=draw(st.integers(0, 50_000)),
        fees=draw(st.integers(0, 30_000)), minimum=draw(st.integers(0, 200_000)),
        due=draw(st.one_of(st.none(), st.integers(-40, 20).map(
            lambda d: TODAY + timedelta(days=d)))),
        zone=draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"])),
        plan=draw(st.one_of(st.just([]), st.lists(st.integers(1_000, 90_000), min_size=1,
                                                  max_size=4))),
        walked=draw(st.one_of(st.none(), st.integers(0, 8))),
        payments=payments, order=draw(st.permutations(deliveries)))


def test_the_fast_posting_gives_what_post_success_gives(client, make_account, clock):
    clock.move_to(BASE)
    seen = {"fast": 0}
    real_post = fast_posting.post

    def counted(row, intent):
        result = real_post(row, intent)
        seen["fast"] += result is True
        return result

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(spec=_spec())
    def check(spec):
        facts = {}
        for tag, on in (("general", False), ("fast", True)):
            account, payments = _history(make_account, spec, tag)
            with _fast(on), mock.patch.object(fast_posting, "post", counted):
                outcomes = [_deliver(client, e) for e in _events(payments, spec, tag)]
            facts[tag] = (outcomes, _facts(account, payments))
        assert facts["fast"][0] == facts["general"][0]  # the endpoint's answers
        for key, value in facts["fast"][1].items():
            assert value == facts["general"][1][key], key

    check()
    assert seen["fast"] >= 5  # the fast path did post (not only fall back)
    checked, broken = verify_chain()
    assert broken is None and checked > 0


@pytest.mark.parametrize("fast", [True, False])
def test_one_success_delivered_at_once_from_many_sessions_posts_once(app, make_account, fast):
    account = make_account(principal=300_000, minimum_due=100_000)
    payments = []
    for n in range(3):
        payments.append(processing_payment(account, 60_000 + n, f"race_{n}"))
    _db.session.commit()
    events = [intent_event(p, event_id=f"evt_race_{p.id}_{k}")
              for p in payments for k in range(2)] * 2  # two ids each, each delivered twice
    barrier = threading.Barrier(len(events))

    def deliver(event) -> str:
        with app.test_request_context():
            barrier.wait()
            try:
                outcome = webhooks.handle_event(event, provider="sandbox")
                _db.session.commit()
                return outcome
            finally:
                _db.session.rollback()
                _db.session.remove()

    with _fast(fast), ThreadPoolExecutor(len(events)) as pool:
        outcomes = list(pool.map(deliver, events))  # an exception in a session fails the test
    assert sorted(outcomes).count("duplicate") == 6
    _db.session.expire_all()
    posted = _db.session.scalars(select(Payment).where(Payment.account_id == account.id)).all()
    assert [p.status for p in posted] == [PaymentStatus.SUCCEEDED] * 3
    paid = _db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.PAYMENT)).all()
    assert -sum(paid) == sum(p.amount for p in posted)  # each posted once
    # The three share the CN¥1,000.00 minimum, whatever order they commit in: each judged it
    # after the ones before (they once each took it whole: 1,800.03 in all).
    assert sum(p.toward_minimum for p in posted) == 100_000
    assert verify_chain()[1] is None


def test_a_duplicate_waits_on_no_payment_lock(client, make_account, app):
    account = make_account()
    payment = processing_payment(account, 10_000, "dup_lock")
    _db.session.commit()
    event = intent_event(payment, event_id="evt_dup_lock")
    assert _deliver(client, event) == "processed"
    url = _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as other:  # holds the payment's row until the end of the block
        other.execute("SELECT id FROM payment WHERE id = %s FOR UPDATE", (payment.id,))
        with app.test_request_context():
            _db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            # a lock wait would fail here with a lock timeout
            assert webhooks.handle_event(event, provider="sandbox") == "duplicate"
            _db.session.rollback()
