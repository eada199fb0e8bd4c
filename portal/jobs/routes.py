"""The job engine seen from outside: runs for admin, and a health endpoint for monitoring."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify, render_template
from flask_babel import lazy_gettext as _l

from portal.auth.session import staff_required
from portal.core.nav import staff_entry
from portal.jobs import runs as job_runs
from portal.outbox import services as outbox
from portal.outbox.models import Channel
from portal.payments import inbox
from portal.staff.models import Role

bp = Blueprint("jobs", __name__)

NAV = (staff_entry("jobs.runs", _l("Scheduled jobs"), [Role.ADMIN], order=70),)

STATUS_LABELS = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "retrying": _l("Retrying after an error"),
    "succeeded": _l("Succeeded"),
    "failed": _l("Failed"),
}

CHANNEL_LABELS = {Channel.EMAIL: _l("Email"), Channel.SMS: _l("Text message")}

EVENT_STATE_LABELS = {inbox.PENDING: _l("Waiting to be posted"),
                      inbox.FAILED: _l("Failed: waits for a person")}


def _stale_after() -> timedelta:
    return timedelta(hours=current_app.config["JOBS_NIGHTLY_STALE_HOURS"])


def _inbox_health() -> tuple[bool, dict]:
    return inbox.health(timedelta(minutes=current_app.config["WEBHOOK_STALE_MINUTES"]))


@bp.get("/staff/jobs")
@staff_required(Role.ADMIN)
def runs():
    healthy, nightly = job_runs.nightly_health(_stale_after())
    return render_template("jobs/runs.html", healthy=healthy, nightly=nightly,
                           recent=job_runs.recent(50), failed=job_runs.recent(50, failed_only=True),
                           status_labels=STATUS_LABELS, undelivered=outbox.failed_for_good(50),
                           channel_labels=CHANNEL_LABELS, webhooks=_inbox_health()[1],
                           webhook_events=inbox.waiting(), event_state_labels=EVENT_STATE_LABELS,
                           webhook_stale=current_app.config["WEBHOOK_STALE_MINUTES"])


@bp.get("/health/jobs")
def health():
    """For monitoring, not for load balancers (`/healthz`): 200 while the nightly run is
    healthy and the webhook inbox's worker keeps up, else 503; the JSON body says why
    (docs/operations.md)."""
    healthy, nightly = job_runs.nightly_health(_stale_after())
    posting, webhooks = _inbox_health()
    healthy = healthy and posting
    body = {"status": "ok" if healthy else "failing", "nightly": nightly, "webhooks": webhooks,
            "failed_tasks_24h": job_runs.failed_since(24),
            "failed_messages_24h": outbox.failed_since(24)}
    return jsonify(body), 200 if healthy else 503
