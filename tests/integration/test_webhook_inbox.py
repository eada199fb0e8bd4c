"""The webhook inbox (portal/payments/inbox.py), on SQLite and PostgreSQL: the request records
a verified event and answers; the worker posts recorded events in batches with the request's
own rules. Hypothesis holds the batched worker to the request path: for generated accounts,
plans, nightly states and deliveries (successes, duplicates, late `processing` events,
refunds, in any order) drained at random points in random batch sizes, the same ledger
entries, payment rows, plan instalments, audit events and outbox messages as posting each
delivery in its request. Plus: a failing event neither blocks nor loses the others and keeps
its error; a batch that fails midway leaves nothing half done; the return page tells the
truth while the event waits."""
from __future__ import annotations

import re
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from portal.audit.services import verify_chain
from portal.extensions import db as _db
from portal.payments import batch_posting, fast_posting, inbox, wake, webhooks
from portal.payments.models import Payment, WebhookEvent
from portal.payments.states import PaymentStatus
from portal.outbox.models import OutboxMessage
from portal.tasks.engine import WEBHOOK_DRAIN_TASK
from portal.tasks.jobs import webhook_drain, webhook_poll
from portal.tasks.schedule import WEBHOOK_POLL_TASK, beat_schedule
from tests.clock import BASE
from portal.plans.models import Plan, PlanInstalment
from tests.integration.payment_helpers import (  # noqa: F401 - `account` is a fixture
    account, deliver_event, intent_event, kept_tasks, only_payment, pay_with_card,
    payment_entries, processing_payment, start_payment,
)
from tests.integration.test_fast_posting_postgres import _events, _facts, _history, _spec


@contextmanager
def _inbox(app, on: bool = True):
    # A message's links come from PORTAL_BASE_URL outside a request (the worker), from the
    # request's host in it: the same here.
    with mock.patch.dict(app.config, {"WEBHOOK_INBOX": "1" if on else "0",
                                      "PORTAL_BASE_URL": "http://localhost"}):
        yield


def _states() -> dict:
    _db.session.expire_all()
    return dict(_db.session.execute(select(WebhookEvent.state, func.count())
                                    .group_by(WebhookEvent.state)).all())


def _refund(payment, tag: str, n: int) -> dict:
    amount = max(1, payment.amount // 3)
    return {"id": f"evt_{tag}_{n}_refund", "type": "charge.refunded", "data": {"object": {
        "id": f"ch_{tag}_{n}", "object": "charge", "payment_intent": payment.provider_ref,
        "metadata": {"payment_id": str(payment.id)}, "amount_refunded": amount,
        "refunds": {"object": "list", "has_more": False, "data": [
            {"id": f"re_{tag}_{payment.account_id}_{n}", "amount": amount,
             "status": "succeeded"}]}}}}


def test_an_accepted_event_is_posted_by_the_worker_once(app, client, make_account):
    account = make_account(principal=300_000, minimum_due=50_000)
    payment = processing_payment(account, 40_000, "inbox_once")
    _db.session.commit()
    event = intent_event(payment, event_id="evt_inbox_once")
    with _inbox(app):
        assert deliver_event(client, event) == "accepted"
        assert deliver_event(client, event) == "duplicate"
        assert payment_entries(account.id) == 0  # recorded, not posted yet
        assert _states() == {"pending": 1}
        assert inbox.drain() == dict(claimed=1, done=1, failed=0, batches=1)
        assert deliver_event(client, event) == "duplicate"
        assert inbox.drain()["claimed"] == 0
    assert payment_entries(account.id) == -40_000
    assert only_payment(account.id).status == PaymentStatus.SUCCEEDED
    assert _states() == {"done": 1}


def test_the_inbox_is_on_where_beat_polls(app, db):
    with mock.patch.dict(app.config, {"WEBHOOK_INBOX": "auto", "JOBS_BROKER_URL": "amqp://x",
                                      "OUTBOX_POLL_SECONDS": 1}):
        assert webhooks.inbox_on()
        app.config["OUTBOX_POLL_SECONDS"] = 0
        assert not webhooks.inbox_on()
        app.config["JOBS_BROKER_URL"] = None
        app.config["WEBHOOK_INBOX"] = "1"
        assert webhooks.inbox_on()
    assert beat_schedule(1)["webhook-poll"]["task"] == WEBHOOK_POLL_TASK
    assert "webhook-poll" not in beat_schedule(0)


def test_the_first_event_into_an_empty_inbox_wakes_the_worker_once(app, client, make_account,
                                                                   monkeypatch):
    account = make_account(principal=300_000, minimum_due=50_000)
    payments = [processing_payment(account, 5_000 + n, f"inbox_wake_{n}") for n in range(4)]
    _db.session.commit()
    sent = kept_tasks(app, monkeypatch, 1)  # a broker and beat's poll: the inbox is on
    monkeypatch.setitem(app.config, "WEBHOOK_INBOX", "auto")
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "http://localhost")
    monkeypatch.setattr(wake, "CHECK_EVERY", 0)  # every recording asks
    monkeypatch.setattr(inbox, "LINGER", 0)  # the woken worker drains and returns: no sleep

    def wake_ups():
        return sum(1 for name, _ in sent if name == WEBHOOK_DRAIN_TASK)

    assert deliver_event(client, intent_event(payments[0], event_id="evt_wake_0")) == "accepted"
    assert wake_ups() == 1
    # events waiting: the worker woken for them takes these too
    assert deliver_event(client, intent_event(payments[1], event_id="evt_wake_1")) == "accepted"
    assert deliver_event(client, intent_event(payments[0], event_id="evt_wake_0")) == "duplicate"
    assert wake_ups() == 1
    assert webhook_drain.run()["done"] == 2
    assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.delivered_at.is_not(None))) == 2  # receipts
    assert webhook_drain.run()["claimed"] == 0  # a stale wake-up returns at once
    # a recording rolled back wakes no one; the inbox empty again, the next one does
    webhooks.record_pending(intent_event(payments[2], event_id="evt_wake_2"), "sandbox")
    _db.session.rollback()
    assert wake_ups() == 1
    if _db.engine.dialect.name == "postgresql":  # a worker awake: it takes the event, no task
        with wake.awake() as alone:
            assert alone
            assert deliver_event(client, intent_event(payments[2], "evt_wake_2")) == "accepted"
            assert wake_ups() == 1
            assert inbox.drain()["done"] == 1
    assert deliver_event(client, intent_event(payments[3], event_id="evt_wake_3")) == "accepted"
    assert wake_ups() == 2
    assert inbox.drain()["done"] == 1


def test_a_wake_up_gives_its_worker_back_after_its_longest_while(app, client, make_account):
    account = make_account(principal=300_000, minimum_due=50_000)
    payment = processing_payment(account, 8_000, "inbox_most")
    _db.session.commit()
    with _inbox(app):
        deliver_event(client, intent_event(payment, event_id="evt_most"))
        started = time.monotonic()
        # it would keep looking for an hour; it returns after its first drain instead
        assert inbox.drain_awake(linger=3600, most=0)["done"] == 1
        assert time.monotonic() - started < 60
    assert payment_entries(account.id) == -8_000


class _FakeTime:
    """`inbox.time` for a wake-up's loop: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _scripted_wake_up(monkeypatch, claims: list, rounds: list | None = None,
                      **options) -> list[int]:
    """Run `drain_awake` (with `options`) over drains that claim `claims` in turn (then
    nothing; an exception in the list is raised by its drain); the postings made so far at
    each receipts' round (appended to `rounds`)."""
    script, posted, rounds = list(claims), [0], [] if rounds is None else rounds

    def drain():
        got = script.pop(0) if script else 0
        if isinstance(got, Exception):
            raise got
        posted[0] += got
        return dict(claimed=got, done=got, failed=0, batches=1 if got else 0)

    monkeypatch.setattr(inbox, "drain", drain)
    monkeypatch.setattr(inbox, "time", _FakeTime())
    inbox.drain_awake(**{"when_idle": lambda: rounds.append(posted[0]), "step": 0.1,
                         "linger": 0.25, "most": 60, **options})
    return rounds


def test_a_wake_up_sends_the_receipts_once_the_postings_pause(app, db, monkeypatch):
    # a burst: the receipts wait for the first look that finds nothing, not one round a batch
    assert _scripted_wake_up(monkeypatch, [3, 4, 2, 5], idle_within=3600) == [14]
    # a stream that never pauses still gets its receipts every `idle_within` seconds
    assert _scripted_wake_up(monkeypatch, [3, 4, 2, 5, 1], idle_within=0.15) == [9, 15]
    # nothing posted: no round; a wake-up that ends with its first drain still sends them
    assert _scripted_wake_up(monkeypatch, [], idle_within=3600) == []
    assert _scripted_wake_up(monkeypatch, [2], idle_within=3600, linger=0) == [2]


def test_a_wake_up_that_fails_still_sends_the_receipts_of_what_it_posted(app, db, monkeypatch):
    rounds: list[int] = []
    with pytest.raises(RuntimeError):
        _scripted_wake_up(monkeypatch, [3, 4, RuntimeError("down")], rounds, idle_within=3600)
    assert rounds == [7]
    rounds.clear()
    with pytest.raises(RuntimeError):
        _scripted_wake_up(monkeypatch, [RuntimeError("down")], rounds, idle_within=3600)
    assert rounds == []  # nothing was posted, so nothing is owed

    def failing_round():
        raise OSError("outbox down")

    # the receipts' round failing too: the drain's error is the one raised
    with pytest.raises(ValueError):
        _scripted_wake_up(monkeypatch, [2, ValueError("drain down")], idle_within=3600,
                          when_idle=failing_round)


def test_a_process_asks_whether_to_wake_at_most_every_so_often(app, client, make_account,
                                                                monkeypatch):
    account = make_account(principal=300_000, minimum_due=50_000)
    payments = [processing_payment(account, 6_000 + n, f"inbox_ask_{n}") for n in range(2)]
    _db.session.commit()
    sent = kept_tasks(app, monkeypatch, 1)
    monkeypatch.setitem(app.config, "WEBHOOK_INBOX", "auto")
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "http://localhost")
    monkeypatch.setattr(wake, "CHECK_EVERY", 3600)
    monkeypatch.setattr(wake, "_checked", [float("-inf")])
    assert deliver_event(client, intent_event(payments[0], event_id="evt_ask_0")) == "accepted"
    assert inbox.drain()["done"] == 1
    # the inbox empty again, but this process asked a moment ago: only recorded, and beat's
    # poll (the safety net) posts it
    assert deliver_event(client, intent_event(payments[1], event_id="evt_ask_1")) == "accepted"
    assert [name for name, _ in sent if name == WEBHOOK_DRAIN_TASK] == [WEBHOOK_DRAIN_TASK]
    assert webhook_poll.run()["done"] == 1
    assert payment_entries(account.id) == -12_001


@st.composite
def _inbox_spec(draw):
    spec = draw(_spec())
    order = list(spec["order"])
    # a refund of some posted payments, delivered after its success (possibly twice)
    for n in sorted(draw(st.sets(st.integers(0, len(spec["payments"]) - 1), max_size=2))):
        first = next(i for i, d in enumerate(order) if d == (n, "succeeded"))
        for _ in range(draw(st.integers(1, 2))):
            order.insert(draw(st.integers(first + 1, len(order))), (n, "refund"))
    # a success delivered again under another event id, anywhere (a batch's payment named
    # twice: `fast_posting.lock_batch` locks it for the first only)
    for n in sorted(draw(st.sets(st.integers(0, len(spec["payments"]) - 1), max_size=2))):
        order.insert(draw(st.integers(0, len(order))), (n, "again"))
    spec["order"] = order
    # few drains and batches up to the whole stream: several postings of the account in one
    # batch (the set-based rounds, PostgreSQL), a guard firing between them
    spec["drains"] = draw(st.sets(st.integers(0, len(order) - 1), max_size=2))
    spec["batch"] = draw(st.integers(1, 10))
    return spec


def _deliveries(payments, spec, tag):
    plain = dict(spec, order=[d for d in spec["order"] if d[1] not in ("refund", "again")])
    events = iter(_events(payments, plain, tag))
    again = {n: dict(event, id=event["id"] + "_again")
             for n, event in enumerate(_events(payments, dict(spec, order=[
                 (n, "succeeded") for n in range(len(payments))]), tag))}
    return [_refund(payments[n], tag, n) if kind == "refund" else again[n]
            if kind == "again" else next(events) for n, kind in spec["order"]]


def _same(facts, tag, account):
    """The facts with this history's names (its tag, reversal ids, instalment ids in a plan
    reversal) made neutral."""
    seqs = dict(_db.session.execute(select(PlanInstalment.id, PlanInstalment.seq).join(Plan)
                                    .where(Plan.account_id == account.id)).all())
    # The one intended difference: the request audits its postings as an anonymous caller
    # (the provider, in a request with no one signed in), the worker as the system.
    text = repr(facts).replace(tag, "T").replace("'anonymous'", "'system'")
    text = re.sub(r"'reversal_id': \d+", "'reversal_id': -", text)
    text = re.sub(r"'plan_reversal': \[[^a-z]*?\]\]", lambda m: re.sub(
        r"\[(\d+), ", lambda i: f"[seq{seqs.get(int(i[1]), '?')}, ", m[0]), text)
    return re.sub(r"(reversal|reinstated):\d+:\d+", r"\1:-:-", text)


def test_the_batched_worker_posts_what_each_request_would(app, client, make_account, clock):
    clock.move_to(BASE)
    seen = {"batches": 0, "set": 0, "guarded": 0}
    posted_in_batch: dict = {}  # a batch's rounds share its moment
    real_many = batch_posting.post_many

    def counted(items, now):  # what the set-based rounds did (PostgreSQL)
        outcomes = real_many(items, now)
        seen["set"] += outcomes.count(True)
        seen["guarded"] += outcomes.count(None)
        posted_in_batch[now] = posted_in_batch.get(now, 0) + outcomes.count(True)
        return outcomes

    # Derandomized, 25 examples: the counts asserted after `check` (set-based postings,
    # guards, second rounds) are about the examples generated, which a random run of 15 did
    # not always give (8 set-based postings in one run on the merged main: a flaky failure).
    @settings(max_examples=25, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(spec=_inbox_spec())
    def check(spec):
        facts = {}
        for tag, on in (("request", False), ("inbox", True)):
            account, payments = _history(make_account, spec, tag)
            with _inbox(app, on), mock.patch.object(batch_posting, "post_many", counted), \
                    mock.patch.object(inbox, "log") as log:
                for n, event in enumerate(_deliveries(payments, spec, tag)):
                    deliver_event(client, event)
                    if on and n in spec["drains"]:
                        seen["batches"] += inbox.drain(spec["batch"])["batches"]
                if on:
                    seen["batches"] += inbox.drain(spec["batch"])["batches"]
            assert not log.warning.called  # no batch failed (and was posted one by one)
            facts[tag] = _same(_facts(account, payments), tag, account)
        assert facts["inbox"] == facts["request"]
        assert "pending" not in _states() and "failed" not in _states()

    check()
    assert seen["batches"] >= 15
    if _db.engine.dialect.name == "postgresql":  # set-based postings, guards sending some
        assert seen["set"] >= 10 and seen["guarded"] >= 1  # on, and batches posting the
        assert max(posted_in_batch.values()) >= 2  # account twice or more (second rounds)
    checked, broken = verify_chain()
    assert broken is None and checked > 0


def test_a_failing_event_neither_blocks_nor_loses_the_others(app, client, make_account, clock):
    clock.move_to(BASE)
    account = make_account(principal=300_000, minimum_due=50_000)
    payments = [processing_payment(account, 9_000 + n, f"inbox_fail_{n}") for n in range(3)]
    _db.session.commit()
    refund = _refund(payments[0], "fail", 0)  # 3,000 of the first payment's 9,000
    boom = {"charge.refunded": mock.Mock(side_effect=RuntimeError("boom"))}
    with _inbox(app):
        deliver_event(client, intent_event(payments[0], event_id="evt_fail_0"))
        deliver_event(client, refund)
        deliver_event(client, intent_event(payments[2], event_id="evt_fail_2"))
        with mock.patch.dict(webhooks._HANDLERS, boom):
            assert inbox.drain() == dict(claimed=3, done=2, failed=1, batches=1)
        assert payment_entries(account.id) == -18_002  # the two successes, once each
        row = _db.session.scalars(select(WebhookEvent).where(
            WebhookEvent.event_id == refund["id"])).one()
        assert (row.state, row.attempts, row.error) == ("pending", 1, "RuntimeError: boom")
        assert inbox.drain()["claimed"] == 0  # not before its retry time
        clock.move_to(row.retry_at)
        with mock.patch.dict(app.config, {"WEBHOOK_MAX_ATTEMPTS": 2}), \
                mock.patch.dict(webhooks._HANDLERS, boom):
            assert inbox.drain()["failed"] == 1
        _db.session.expire_all()
        assert (row.state, row.attempts) == ("failed", 2)  # waits for a person now
        assert [r.event_id for r in inbox.waiting()] == [refund["id"]]
        assert inbox.drain()["claimed"] == 0
        assert inbox.retry_failed() == 1
        assert inbox.drain() == dict(claimed=1, done=1, failed=0, batches=1)
    assert payment_entries(account.id) == -15_002  # the refund, once
    assert _states() == {"done": 3}


def test_a_batch_locks_each_payment_once_for_its_first_event_and_posts_it_once(
        app, client, make_account):
    account = make_account(principal=300_000, minimum_due=50_000)
    first, second = (processing_payment(account, 7_000 + n, f"inbox_lockb_{n}") for n in range(2))
    _db.session.commit()
    events = [intent_event(first, event_id="evt_lockb_a"),
              intent_event(first, "payment_intent.processing", "evt_lockb_late",
                           status="processing"),
              intent_event(first, event_id="evt_lockb_b"),  # the same success, another id
              intent_event(second, event_id="evt_lockb_c")]
    with _inbox(app):
        for event in events:
            assert deliver_event(client, event) == "accepted"
        locked = fast_posting.lock_batch(events)
        _db.session.rollback()
        postgres = _db.engine.dialect.name == "postgresql"
        assert sorted(locked) == ([0, 3] if postgres else [])  # SQLite: each its own lock
        assert all(claimed.row is not None for claimed in locked.values())
        assert inbox.drain(10) == dict(claimed=4, done=4, failed=0, batches=1)
    assert payment_entries(account.id) == -14_001
    assert {p.status for p in _db.session.scalars(select(Payment).where(
        Payment.account_id == account.id))} == {PaymentStatus.SUCCEEDED}


def test_an_accounts_successes_after_an_event_applied_one_by_one_wait_for_it(
        app, client, make_account):
    """A batch whose first event about an account goes the general way (a late `processing`
    event) posts that account's later successes after it, one by one; another account's
    success in the same batch is posted set-based (PostgreSQL), and its own late event,
    after it, changes nothing and is not applied. No batch fails."""
    first, other = (make_account(principal=300_000, minimum_due=50_000) for _ in range(2))
    payments = [processing_payment(first, 4_000 + n, f"inbox_wait_{n}") for n in range(2)]
    elsewhere = processing_payment(other, 6_000, "inbox_wait_other")
    _db.session.commit()
    events = [intent_event(payments[0], "payment_intent.processing", "evt_wait_late",
                           status="processing"),
              intent_event(payments[1], event_id="evt_wait_1"),
              intent_event(elsewhere, event_id="evt_wait_other"),
              intent_event(payments[0], event_id="evt_wait_0"),
              intent_event(elsewhere, "payment_intent.processing", "evt_wait_other_late",
                           status="processing")]
    rounds: list = []
    applied: list = []
    real, real_apply = batch_posting.post_many, webhooks.apply_recorded
    with _inbox(app), mock.patch.object(inbox, "log") as log, mock.patch.object(
            batch_posting, "post_many",
            lambda items, now: rounds.append([i[0] for i in items]) or real(items, now)), \
            mock.patch.object(inbox, "apply_recorded", lambda event, *claimed: applied.append(
                event["id"]) or real_apply(event, *claimed)):
        for event in events:
            assert deliver_event(client, event) == "accepted"
        assert inbox.drain(10) == dict(claimed=5, done=5, failed=0, batches=1)
    assert not log.warning.called
    if _db.engine.dialect.name == "postgresql":
        assert rounds == [[2]]
        assert applied == ["evt_wait_late", "evt_wait_1", "evt_wait_0"]
    assert only_payment(other.id).status == PaymentStatus.SUCCEEDED
    assert payment_entries(first.id) == -8_001 and payment_entries(other.id) == -6_000


def test_a_batch_that_fails_midway_commits_nothing_of_it(app, client, make_account):
    account = make_account(principal=300_000, minimum_due=50_000)
    payments = [processing_payment(account, 10_000 + n, f"inbox_mid_{n}") for n in range(3)]
    _db.session.commit()
    refund = _refund(payments[0], "mid", 0)  # 3,333 of the first payment's 10,000
    events = [intent_event(p, event_id=f"evt_mid_{p.id}") for p in payments]
    events.insert(2, refund)  # on PostgreSQL the first two are posted set-based before it
    with _inbox(app):
        for event in events:
            deliver_event(client, event)
        real = webhooks.apply_recorded

        def dies_on_the_refund(event, *claimed):
            if event["id"] == refund["id"]:
                raise KeyboardInterrupt  # the worker killed: nothing caught, nothing kept
            return real(event, *claimed)

        with mock.patch.object(inbox, "apply_recorded", dies_on_the_refund), \
                pytest.raises(KeyboardInterrupt):
            inbox.post_batch()
        _db.session.rollback()
        assert payment_entries(account.id) == 0 and _states() == {"pending": 4}
        assert inbox.drain()["done"] == 4
    assert payment_entries(account.id) == -30_003 + 3_333


def test_the_return_page_tells_the_truth_while_the_event_waits(app, client, account):
    _, response = start_payment(client, account, "overdue")
    payment = only_payment(account.id)
    with _inbox(app):
        pay_with_card(client, payment.id)  # the sandbox "sends" its success: only recorded
        assert _states().get("pending", 0) >= 1
        page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
        # the page asked the provider and posted the payment itself, as it does when a
        # webhook is late; the recorded event then finds it posted
        assert only_payment(account.id).status == PaymentStatus.SUCCEEDED
        assert payment_entries(account.id) == -50_000
        assert "received" in page.lower() or "applied" in page.lower()
        inbox.drain()
    assert payment_entries(account.id) == -50_000
    assert _states().get("pending", 0) == 0


def test_beats_poll_and_the_operator_command_post_and_show_the_inbox(app, client, runner,
                                                                     make_account):
    account = make_account(principal=300_000, minimum_due=50_000)
    payments = [processing_payment(account, 5_000 + n, f"inbox_cli_{n}") for n in range(2)]
    _db.session.commit()
    with _inbox(app):
        deliver_event(client, intent_event(payments[0], event_id="evt_cli_0"))
        assert webhook_poll.run() == dict(claimed=1, done=1, failed=0, batches=1)
        deliver_event(client, intent_event(payments[1], event_id="evt_cli_1"))
        listed = runner.invoke(args=["payments", "webhooks"]).output
        assert "evt_cli_1" in listed and "pending" in listed and "evt_cli_0" not in listed
        drained = runner.invoke(args=["payments", "webhooks", "--drain"]).output
        assert "'done': 1" in drained and "evt_cli_1" not in drained
    assert payment_entries(account.id) == -10_001
