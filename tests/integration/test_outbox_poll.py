"""With a broker and OUTBOX_POLL_SECONDS, a commit hands on no payment confirmation (the
transactional messages of `queue_transactional`, the webhook's hot path): beat's poller
(`portal.outbox_poll`) sends them, each once; every other message (a sign-in code, a service
message) is handed on by its commit as before (test_outbox_queued_delivery.py has the task
per commit)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.outbox.models import MessageKind, OutboxMessage
from portal.outbox.services import queue_email, queue_transactional
from portal.payments.models import SandboxIntent
from portal.tasks.engine import DELIVER_TASK
from portal.tasks.jobs import outbox_deliver_ids, outbox_poll
from portal.tasks.schedule import POLL_TASK, SCHEDULE, beat_schedule
from portal.timeutil import utcnow
from tests.integration.payment_helpers import deliver_twice_and_late, kept_tasks
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)


@pytest.fixture()
def polled(app, monkeypatch):
    """A broker and the poller are configured; the tasks sent to the broker are kept here."""
    return kept_tasks(app, monkeypatch, 1)


def _poll(app) -> dict:
    """The poller's body in this test's app context (see _worker_runs in
    test_outbox_queued_delivery.py for why not the task object itself)."""
    with app.app_context():
        return outbox_poll.run()


def _delivered(db, message_id):
    return db.session.scalar(select(OutboxMessage.delivered_at)
                             .where(OutboxMessage.id == message_id))


def test_a_committed_receipt_sends_no_task_and_the_poll_delivers_it_once(
        app, db, polled, outbox, make_account):
    holder = make_account().cardholder
    kept = queue_transactional(holder, "Payment received", "Thank you.",
                               purpose="payment_receipt")
    db.session.commit()
    queue_transactional(holder, "Payment received", "Never committed.",
                        purpose="payment_receipt")
    db.session.rollback()
    assert polled == [] and outbox() == []  # nothing published, nothing sent at the commit
    assert _poll(app) == {"delivered": 1}
    assert _poll(app) == {"delivered": 0}  # the next poll finds it sent
    assert [m["body"].strip() for m in outbox()] == ["Thank you."]
    assert _delivered(db, kept) is not None


def test_a_sign_in_code_is_still_handed_on_by_its_commit_and_sent_once(app, db, polled,
                                                                      outbox):
    message = queue_email("li.wei@example.com", "Your code", "123456", purpose="otp")
    db.session.commit()
    assert polled == [(DELIVER_TASK, [[message.id]])]  # not left to beat alone
    assert _poll(app) == {"delivered": 1}  # a poll first: the task then finds it sent
    with app.app_context():
        assert outbox_deliver_ids.run([message.id]) == {"delivered": 0}
    assert len(outbox()) == 1


def test_a_service_message_is_still_handed_on_by_its_commit_and_never_polled(
        app, db, polled, make_account):
    holder = make_account().cardholder
    message = queue_email(holder.email, "Your dispute", "We replied.", purpose="dispute",
                          cardholder_id=holder.id, kind=MessageKind.SERVICE)
    db.session.commit()
    assert message.suppressed_at is None
    assert polled == [(DELIVER_TASK, [[message.id]])]
    assert _poll(app) == {"delivered": 0}  # the contact rules' messages are not the poll's
    assert _delivered(db, message.id) is None


def test_the_poll_takes_only_due_messages(app, db, polled, outbox, make_account):
    message_id = queue_transactional(make_account().cardholder, "Payment received",
                                     "Thank you.", purpose="payment_receipt")
    db.session.get(OutboxMessage, message_id).not_before = utcnow() + timedelta(minutes=5)
    db.session.commit()  # as after a failed attempt: its retry time is later
    assert _poll(app) == {"delivered": 0} and outbox() == []


def test_without_the_poller_the_commit_sends_the_task_as_before(app, db, polled, monkeypatch,
                                                                make_account):
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 0)
    message_id = queue_transactional(make_account().cardholder, "Payment received",
                                     "Thank you.", purpose="payment_receipt")
    db.session.commit()
    assert polled == [(DELIVER_TASK, [[message_id]])]


def test_duplicate_and_late_webhooks_post_once_and_the_poll_sends_one_receipt(
        app, db, client, started, outbox, polled):
    row = db.session.get(SandboxIntent, started.provider_ref)
    row.status = "succeeded"
    db.session.commit()
    _poll(app)  # what starting the payment queued is not this test's concern
    before = len(outbox())
    deliver_twice_and_late(client, started)
    assert polled == [] and len(outbox()) == before  # no task, nothing sent in the requests
    _poll(app)
    _poll(app)
    receipts = [m for m in outbox() if "has been received and applied" in m["body"]]
    assert len(receipts) == 1


def test_beat_polls_at_the_configured_interval():
    schedule = beat_schedule(1)
    assert schedule["outbox-poll"] == {"task": POLL_TASK, "schedule": timedelta(seconds=1)}
    assert "outbox-poll" not in beat_schedule(0) and "outbox-poll" not in SCHEDULE

