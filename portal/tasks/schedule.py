"""The schedule of the job engine, in UTC (docs/operations.md has the same table).

The nightly run starts every hour: each account is processed once the day has ended in its
cardholder's time zone, so each hour's run claims the accounts of the zones whose midnight
has just passed (and plan checks run first, as in `flask jobs nightly`). Every job is
idempotent: a run that finds nothing to do records a run with zero counts.
"""
from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab

# name: (task, when, what an operator would run by hand)
SCHEDULE = {
    "nightly": ("portal.nightly", crontab(minute=5), "jobs nightly"),
    "autopay": ("portal.autopay", crontab(minute=30, hour=2), "jobs autopay"),
    "reconcile": ("portal.reconcile", crontab(minute="*/5"), "jobs reconcile"),
    "outbox": ("portal.outbox_deliver", crontab(minute="*/2"), "outbox deliver"),
    "journal-export": ("portal.journal_export", crontab(minute=20, hour=0),
                       "exports journal --since YESTERDAY --until YESTERDAY --out FILE"),
    "journal-ageing": ("portal.journal_ageing", crontab(minute=0, hour=6), "journal ageing"),
    "audit-anchor": ("portal.audit_anchor", crontab(minute=40, hour=0), "audit anchor"),
    "reminders": ("portal.reminders", crontab(minute=15), "jobs reminders"),
    # before the reminders: an account overdue since the last hour gets its arm's wording
    "experiment-assignment": ("portal.experiment_assignment", crontab(minute=10),
                              "jobs experiments"),
    # the bodies of webhook events posted more than WEBHOOK_BODY_DAYS ago
    "webhook-bodies": ("portal.webhook_bodies", crontab(minute=50, hour=3),
                       "payments prune-webhooks"),
}


POLL_TASK = "portal.outbox_poll"
WEBHOOK_POLL_TASK = "portal.webhook_poll"


def beat_schedule(poll_seconds: float = 0) -> dict:
    """SCHEDULE for beat, plus the outbox poller every `poll_seconds` (none when 0): it sends
    the transactional messages committed since, so no web request publishes a task for them.
    No expiry: Celery would judge it by the worker's system clock against beat's, which is
    the portal's (a rehearsal's PORTAL_NOW would expire every poll); polls queued behind a
    busy worker each find what is left, or nothing, at the cost of one claim. The webhook
    inbox's poll (`portal.webhook_poll`) beside it posts the events the webhook requests
    recorded. Not in SCHEDULE: they record no job run (one a second would bury the
    others) and has no command of its own (`outbox deliver` sends these too)."""
    schedule = {name: {"task": task, "schedule": when}
                for name, (task, when, _command) in SCHEDULE.items()}
    if poll_seconds > 0:
        schedule["outbox-poll"] = {"task": POLL_TASK, "schedule": timedelta(seconds=poll_seconds)}
        # the webhook inbox's worker (portal/payments/inbox.py): on where this poll runs
        schedule["webhook-poll"] = {"task": WEBHOOK_POLL_TASK,
                                    "schedule": timedelta(seconds=poll_seconds)}
    return schedule
