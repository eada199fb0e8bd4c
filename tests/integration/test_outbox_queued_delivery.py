"""With a job broker, what a transaction queued in the outbox is delivered by a worker after
the commit, not inside the request; without one (or with the broker down), at the commit."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from portal.outbox.models import OutboxMessage
from portal.outbox.services import queue_email
from portal.tasks.engine import DELIVER_TASK
from portal.tasks.jobs import outbox_deliver_ids
from portal.payments.models import SandboxIntent
from tests.integration.payment_helpers import deliver_twice_and_late, kept_tasks
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)


def _files(app) -> list[str]:
    folder = app.config["OUTBOX_DIR"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture()
def broker(app, monkeypatch):
    """A broker is configured, without the outbox poller (a task per commit:
    test_outbox_poll.py has the poller); the tasks sent to it are kept here instead."""
    return kept_tasks(app, monkeypatch, 0)


def _worker_runs(app, ids) -> dict:
    """The delivery task's body, in this test's app context. Calling the task object itself
    would push the context of whichever Flask app created the current Celery app last, which
    may be another test's (another database)."""
    with app.app_context():
        return outbox_deliver_ids.run(ids)


def _receipt(db) -> OutboxMessage:
    message = queue_email("li.wei@example.com", "Payment received", "Thank you.",
                          purpose="payment_receipt")
    db.session.commit()
    return message


def test_with_a_broker_the_commit_queues_delivery_and_the_worker_delivers_once(app, db, broker):
    message = _receipt(db)
    assert broker == [(DELIVER_TASK, [[message.id]])]
    assert _files(app) == []  # nothing was written inside the request
    assert _worker_runs(app, [message.id]) == {"delivered": 1}
    assert _worker_runs(app, [message.id]) == {"delivered": 0}  # a redelivered task
    assert len(_files(app)) == 1
    delivered = db.session.scalar(select(OutboxMessage.delivered_at)
                                  .where(OutboxMessage.id == message.id))
    assert delivered is not None


def test_without_a_broker_the_commit_delivers_at_once(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BROKER_URL", None)
    _receipt(db)
    assert len(_files(app)) == 1


def test_when_the_broker_refuses_the_task_the_commit_delivers_at_once(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 0)

    def refuse(name, args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app.extensions["celery"], "send_task", refuse)
    _receipt(db)
    assert len(_files(app)) == 1


def test_duplicate_and_late_webhooks_post_once_and_the_receipt_is_queued_once(
        app, db, client, started, outbox, broker):
    row = db.session.get(SandboxIntent, started.provider_ref)
    row.status = "succeeded"
    db.session.commit()
    broker.clear()  # what starting the payment queued is not this test's concern
    deliver_twice_and_late(client, started)
    receipts = [ids for name, (ids,) in broker if name == DELIVER_TASK]
    assert len(receipts) == 1 and not outbox()  # queued once, nothing sent in the requests
    for ids in receipts * 2:  # the task delivered twice
        _worker_runs(app, ids)
    assert len([m for m in outbox() if "has been received and applied" in m["body"]]) == 1

