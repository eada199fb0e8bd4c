"""Payment jobs: `autopay` and `reconcile` (also attachable to the shared `jobs` group)."""
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.payments import inbox
from portal.payments.autopay import run_autopay
from portal.payments.reconcile import reconcile


@click.command("autopay")
@with_appcontext
def autopay_command():
    """Charge autopay instalments due today (in each account's time zone), once."""
    counts = run_autopay()
    click.echo(f"autopay: {counts}")
    return counts  # recorded in job_run (portal.cli)


@click.command("reconcile")
@click.option("--older-than", "minutes", type=click.IntRange(min=0), default=None,
              help="Minutes a payment must have been left unfinished (default from config; "
                   "0: every unfinished payment).")
@with_appcontext
def reconcile_command(minutes):
    """Ask the provider about unfinished payments and post or fail them, once."""
    counts = reconcile(older_than_minutes=minutes)
    click.echo(f"reconcile: {counts}")
    return counts  # recorded in job_run (portal.cli)


@click.command("webhooks")
@click.option("--drain", is_flag=True, help="Post every pending event due now, in batches.")
@click.option("--retry", "retry", multiple=True, type=int,
              help="Make this failed event (inbox row id) pending again; repeatable.")
@click.option("--retry-all", is_flag=True, help="Make every failed event pending again.")
@with_appcontext
def webhooks_command(drain, retry, retry_all):
    """The webhook inbox: list pending and failed events with their errors, post, retry."""
    if retry or retry_all:
        click.echo(f"webhooks: {inbox.retry_failed(list(retry) or None)} pending again")
    if drain:
        click.echo(f"webhooks: {inbox.drain()}")
    for row in inbox.waiting():
        click.echo(f"{row.id}\t{row.state}\t{row.type}\t{row.event_id}\t{row.object_ref}\t"
                   f"attempts {row.attempts}\tnext {row.retry_at or '-'}\t{row.error or ''}")


@click.command("prune-webhooks")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Days after posting to keep an event's body (default WEBHOOK_BODY_DAYS).")
@with_appcontext
def prune_webhooks_command(days):
    """Drop the bodies of webhook events posted more than WEBHOOK_BODY_DAYS days ago (the
    events stay); daily on the job engine."""
    days = current_app.config["WEBHOOK_BODY_DAYS"] if days is None else days
    counts = inbox.forget_bodies(timedelta(days=days))
    click.echo(f"prune-webhooks: {counts}")
    return counts  # recorded in job_run (portal.cli)


payments_cli = click.Group("payments", help="Online payment jobs.")
payments_cli.add_command(autopay_command)
payments_cli.add_command(reconcile_command)
payments_cli.add_command(webhooks_command)
payments_cli.add_command(prune_webhooks_command)


def attach(jobs_group) -> None:
    """Add the payment jobs to a shared `jobs` group."""
    jobs_group.add_command(autopay_command)
    jobs_group.add_command(reconcile_command)


def register(app) -> None:
    """`flask payments autopay|reconcile`, and the same under `flask jobs` when that group exists."""
    app.cli.add_command(payments_cli)
    jobs_group = app.cli.commands.get("jobs")
    if jobs_group is not None:
        attach(jobs_group)
