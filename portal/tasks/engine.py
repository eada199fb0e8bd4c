"""The Celery application, built from the Flask app's configuration.

Choices (docs/operations.md, "Scheduled jobs"):
- Broker: RabbitMQ (`JOBS_BROKER_URL`, e.g. amqp://guest:guest@127.0.0.1:5672//). A message
  is acknowledged only when its task has finished (`task_acks_late`); when a worker dies, its
  connection closes and RabbitMQ hands every unacknowledged message to another worker at once
  (on Redis, Celery would wait out a visibility timeout, an hour by default, and could then run
  a long task twice).
- One message at a time per worker process (`worker_prefetch_multiplier=1`), so the nightly
  chunks spread over the workers instead of queueing behind one.
- No result backend: what a task did is recorded in the database (`portal.jobs.runs`).
- Every task retries on error with exponential back-off, then is recorded as failed for good.
- The clock is the portal's (`portal.timeutil`): beat fires its schedule at the portal's
  moment, so a rehearsal with PORTAL_NOW (and the tests) run the schedule as it would run then.
"""
from __future__ import annotations

from celery import Celery, Task
from flask import current_app

from portal.outbox.services import deliver_pending, register_dispatcher
from portal.payments.wake import register_waker
from portal.tasks.schedule import beat_schedule
from portal.timeutil import utcnow

TASK_MODULES = ["portal.tasks.jobs"]


class PortalCelery(Celery):
    def now(self):
        """Beat's and the crontab schedules' now: the portal's clock."""
        return utcnow().astimezone(self.timezone)


def make_celery(flask_app, *, broker_url: str | None = None, queue: str | None = None) -> Celery:
    """A Celery app whose tasks run inside `flask_app`'s application context."""
    config = flask_app.config

    class FlaskTask(Task):
        acks_late = True
        reject_on_worker_lost = True  # a worker process killed mid-task: the message goes back
        autoretry_for = (Exception,)
        max_retries = config["JOBS_MAX_RETRIES"]
        retry_backoff = config["JOBS_RETRY_BACKOFF"]
        retry_backoff_max = 600
        retry_jitter = True

        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    celery = PortalCelery(flask_app.import_name, task_cls=FlaskTask, include=TASK_MODULES)
    name = queue or config["JOBS_QUEUE"]
    celery.conf.update(
        broker_url=broker_url or config["JOBS_BROKER_URL"] or "memory://",
        broker_connection_retry_on_startup=True,
        task_default_queue=name,
        task_default_exchange=name,
        task_default_routing_key=name,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        result_expires=None,  # no result backend, so no daily backend_cleanup task either
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(config["OUTBOX_POLL_SECONDS"]),
        worker_hijack_root_logger=False,
    )
    return celery


def init_app(flask_app) -> None:
    """Build the app's Celery application (no connection is made until a task is sent) and
    hand the outbox's after-commit delivery to it."""
    celery = make_celery(flask_app)
    celery.set_default()
    flask_app.extensions["celery"] = celery
    register_dispatcher(queue_delivery, polled=transactional_polled)
    register_waker(wake_webhook_inbox)


def wake_webhook_inbox() -> None:
    """After a commit that recorded an event into an empty webhook inbox: one
    `portal.webhook_drain` task, so a worker posts it now rather than at beat's next poll.
    Without a broker, or if the broker cannot take the task, nothing is sent: beat's poll
    (or an operator's `payments webhooks --drain`) posts the event."""
    app = current_app._get_current_object()
    if not app.config.get("JOBS_BROKER_URL"):
        return
    try:
        app.extensions["celery"].send_task(WEBHOOK_DRAIN_TASK, args=[])
    except Exception as exc:  # noqa: BLE001 - the event is recorded; the poll posts it
        app.logger.warning("could not wake the webhook inbox's worker (%s)", exc)


DELIVER_TASK = "portal.outbox_deliver_ids"
WEBHOOK_DRAIN_TASK = "portal.webhook_drain"


def transactional_polled() -> bool:
    """Whether beat's poller (`portal.outbox_poll`, every OUTBOX_POLL_SECONDS) sends the
    transactional messages a commit queued: with a broker and a poll interval. Then the
    commit sends no task for them (one publish to RabbitMQ less in a payment webhook)."""
    config = current_app.config
    return bool(config.get("JOBS_BROKER_URL")) and config.get("OUTBOX_POLL_SECONDS", 0) > 0


def queue_delivery(ids: list[int]) -> None:
    """After a commit: with a broker (JOBS_BROKER_URL), a worker delivers the messages the
    transaction queued; without one (development, tests), or if the broker cannot take the
    task, they are delivered here and now, as before. A message the task never reaches is
    still sent by the scheduled `outbox_deliver` (it stays undelivered until then)."""
    app = current_app._get_current_object()
    if app.config.get("JOBS_BROKER_URL"):
        try:
            app.extensions["celery"].send_task(DELIVER_TASK, args=[list(ids)])
            return
        except Exception as exc:  # noqa: BLE001 - the broker is down: deliver in-process
            app.logger.warning("could not queue outbox delivery (%s); delivering now", exc)
    deliver_pending(ids)
