"""Monitoring sees the webhook inbox: `/health/jobs` answers 503 when recorded payment events
wait unposted for longer than WEBHOOK_STALE_MINUTES (the worker or beat has stopped) or one
has failed for good (it waits for a person), with counts and never an event's error; admin's
*Scheduled jobs* page lists the waiting events with their errors. The bodies of events posted
more than WEBHOOK_BODY_DAYS ago are dropped (`payments prune-webhooks`), the events kept."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from sqlalchemy import select

from portal.extensions import db as _db
from portal.jobs import runs
from portal.jobs.models import JobRun
from portal.payments import inbox
from portal.payments.models import WebhookEvent
from tests.integration.payment_helpers import (
    deliver_event, intent_event, payment_entries, processing_payment,
)
from tests.integration.test_webhook_inbox import _inbox


def _nightly_ok() -> None:
    runs.succeed(runs.start("nightly", trigger="schedule", task_id="t-ok"))


@contextmanager
def _failing(exc: Exception):
    """Every recorded event fails as the worker applies it (on PostgreSQL a success takes the
    fast posting path, past the handlers, and in a batch the set-based posting first, past
    `apply_recorded`)."""
    with mock.patch.object(inbox, "apply_recorded", side_effect=exc), \
            mock.patch.object(inbox, "post_fast", side_effect=exc):
        yield


def _health(client):
    answer = client.get("/health/jobs")
    return answer.status_code, answer.json


def test_pending_events_turn_the_health_check_red_once_they_wait_too_long(
        app, client, make_account, clock):
    _nightly_ok()
    account = make_account(principal=300_000, minimum_due=50_000)
    payment = processing_payment(account, 40_000, "inbox_health_held")
    _db.session.commit()
    with _inbox(app):
        assert deliver_event(client, intent_event(payment, event_id="evt_health_held")) \
            == "accepted"
        status, body = _health(client)
        assert status == 200 and body["webhooks"]["state"] == "ok"
        assert body["webhooks"]["pending"] == 1 and body["webhooks"]["failed"] == 0
        clock.shift(timedelta(minutes=9))
        assert _health(client)[0] == 200
        clock.shift(timedelta(minutes=2))  # WEBHOOK_STALE_MINUTES = 10: nobody posted it
        status, body = _health(client)
        assert status == 503 and body["status"] == "failing"
        assert body["webhooks"]["state"] == "held" and body["webhooks"]["oldest_due"]
        assert body["nightly"]["state"] == "ok"  # the nightly run is not what failed
        assert inbox.drain()["done"] == 1
        status, body = _health(client)
        assert status == 200 and body["webhooks"] == dict(state="ok", pending=0, failed=0,
                                                          oldest_due=None)


def test_an_event_waiting_for_its_retry_time_is_not_held(app, client, make_account, clock):
    _nightly_ok()
    account = make_account(principal=300_000, minimum_due=50_000)
    payment = processing_payment(account, 40_000, "inbox_health_retry")
    _db.session.commit()
    with _inbox(app), _failing(RuntimeError("boom")), \
            mock.patch.dict(app.config, {"WEBHOOK_STALE_MINUTES": 1}):
        deliver_event(client, intent_event(payment, event_id="evt_health_retry"))
        for _ in range(4):  # 1, 2, 4 then 8 minutes before the next try: not due meanwhile
            assert inbox.drain()["failed"] == 1
            assert _health(client)[1]["webhooks"]["state"] == "ok"
            row = inbox.waiting()[0]
            clock.move_to(row.retry_at)
        clock.shift(timedelta(seconds=61))  # due a minute ago and still not posted
        assert _health(client)[1]["webhooks"]["state"] == "held"


def test_an_event_failed_for_good_shows_on_the_health_check_and_to_admin_only(
        app, client, make_account, login_as, make_staff):
    _nightly_ok()
    account = make_account(principal=300_000, minimum_due=50_000)
    payment = processing_payment(account, 40_000, "inbox_health_failed")
    _db.session.commit()
    with _inbox(app):
        deliver_event(client, intent_event(payment, event_id="evt_health_failed"))
        with _failing(RuntimeError("connection to ledger-3.internal refused")), \
                mock.patch.dict(app.config, {"WEBHOOK_MAX_ATTEMPTS": 1}):
            assert inbox.drain()["failed"] == 1
        answer = client.get("/health/jobs")
        assert answer.status_code == 503
        assert answer.json["webhooks"] == dict(state="failed", pending=0, failed=1,
                                               oldest_due=None)
        assert "ledger-3.internal" not in answer.get_data(as_text=True)  # no sign-in here
        login_as(client, make_staff("admin"))
        page = client.get("/staff/jobs").get_data(as_text=True)
        assert "wait for a person" in page and "evt_health_failed" in page
        assert "ledger-3.internal refused" in page
        assert inbox.retry_failed() == 1 and inbox.drain()["done"] == 1
        page = client.get("/staff/jobs").get_data(as_text=True)
        assert "Payment events are being posted as they arrive." in page
        assert "evt_health_failed" not in page
    assert client.get("/health/jobs").status_code == 200


def test_admin_is_told_when_postings_are_held(app, client, make_account, clock, login_as,
                                              make_staff):
    account = make_account(principal=300_000, minimum_due=50_000)
    payment = processing_payment(account, 40_000, "inbox_health_page")
    _db.session.commit()
    with _inbox(app):
        deliver_event(client, intent_event(payment, event_id="evt_health_page"))
        clock.shift(timedelta(minutes=11))
        login_as(client, make_staff("admin"))
        page = client.get("/staff/jobs").get_data(as_text=True)
    assert "waiting for more than 10 minutes without being posted" in page
    assert "Waiting to be posted" in page and "evt_health_page" in page


def _bodies() -> dict:
    _db.session.expire_all()
    return {row.event_id: (row.state, row.payload is not None)
            for row in _db.session.scalars(select(WebhookEvent))}


def test_bodies_of_events_posted_long_ago_are_dropped_and_the_events_kept(
        app, client, make_account, clock, runner):
    account = make_account(principal=300_000, minimum_due=50_000)
    payments = [processing_payment(account, 10_000 + n, f"inbox_bodies_{n}") for n in range(3)]
    _db.session.commit()
    events = [intent_event(p, event_id=f"evt_bodies_{n}") for n, p in enumerate(payments)]
    with _inbox(app):
        deliver_event(client, events[0])
        assert inbox.drain()["done"] == 1
        clock.shift(timedelta(days=20))
        deliver_event(client, events[1])
        assert inbox.drain()["done"] == 1
        deliver_event(client, events[2])  # still pending: the worker needs its body
        clock.shift(timedelta(days=10, minutes=1))  # the first posted 30 days ago and more
        result = runner.invoke(args=["payments", "prune-webhooks"])
        assert result.exit_code == 0, result.output
        assert _bodies() == {"evt_bodies_0": ("done", False), "evt_bodies_1": ("done", True),
                             "evt_bodies_2": ("pending", True)}
        run = _db.session.scalar(select(JobRun).where(JobRun.job == "webhook bodies"))
        assert (run.trigger, run.status, run.counts) == ("cli", "succeeded", {"forgotten": 1})
        assert deliver_event(client, events[0]) == "duplicate"  # the event itself is kept
        assert inbox.drain()["done"] == 1  # the pending one posts with its body
        assert inbox.forget_bodies(timedelta(days=0), batch=1) == {"forgotten": 2}
    assert _bodies() == {f"evt_bodies_{n}": ("done", False) for n in range(3)}
    assert payment_entries(account.id) == -30_003  # each payment once
