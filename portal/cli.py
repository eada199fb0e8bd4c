"""Operator commands: each feature keeps its own group; this only registers them, and records
every run of a scheduled job's command in `job_run`, as the job engine does."""
import functools

from flask.cli import with_appcontext

from portal.audit.cli import audit_cli
from portal.balances.cli import snapshots_cli
from portal.contact.cli import contact_cli
from portal.core.storage_move import documents_cli
from portal.demo.cli import demo_cli
from portal.disputes.cli import disputes_cli
from portal.exports.cli import audit_anchor_command, exports_cli
from portal.jobs.cli import jobs_cli
from portal.jobs.runs import recorded
from portal.journal.cli import journal_cli
from portal.journal.feed_cli import accounts_cli  # `flask accounts import`: the feed
from portal.links.cli import links_cli
from portal.outbox.cli import outbox_cli
from portal.payments.cli import register as register_payments
from portal.plans.cli import plans_command
from portal.staff.cli import staff_cli

# (group, command): the job's name in `job_run` (the same names as the job engine's tasks)
RECORDED = {
    ("jobs", "nightly"): "nightly",
    ("jobs", "plans"): "plans",
    ("jobs", "autopay"): "autopay",
    ("jobs", "reconcile"): "reconcile",
    ("outbox", "deliver"): "outbox deliver",
    ("exports", "journal"): "journal export",
    ("journal", "ageing"): "journal ageing",
    ("audit", "anchor"): "audit anchor",
    ("jobs", "reminders"): "reminders",
    ("jobs", "experiments"): "experiment assignment",
    ("payments", "prune-webhooks"): "webhook bodies",
}


def register(app):
    jobs_cli.add_command(plans_command)  # `flask jobs plans`
    audit_cli.add_command(audit_anchor_command)  # `flask audit anchor`
    for group in (audit_cli, outbox_cli, accounts_cli, demo_cli, staff_cli, jobs_cli,
                  exports_cli, disputes_cli, contact_cli, journal_cli, documents_cli,
                  snapshots_cli, links_cli):
        app.cli.add_command(group)
    register_payments(app)  # `flask payments ...`, and `jobs autopay` / `jobs reconcile`
    for (group, name), job in RECORDED.items():
        _record(app.cli.commands[group].commands[name], job)


def _record(command, job: str) -> None:
    """Wrap the command so each run is recorded (start, end, counts it returns, error)."""
    callback = command.callback
    if getattr(callback, "records_job", None):
        return  # commands are module-level objects: wrap once however many apps are built

    @functools.wraps(callback)
    def run(*args, **kwargs):
        params = {key: str(value) for key, value in kwargs.items() if value is not None}
        with recorded(job, trigger="cli", params=params) as record:
            result = callback(*args, **kwargs)
            if isinstance(result, dict):
                record.counts = result
        return result

    wrapped = with_appcontext(run)
    wrapped.records_job = job
    command.callback = wrapped
