"""Payment jobs: `autopay` and `reconcile` (also attachable to the shared `jobs` group)."""
import click
from flask.cli import with_appcontext

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


payments_cli = click.Group("payments", help="Online payment jobs.")
payments_cli.add_command(autopay_command)
payments_cli.add_command(reconcile_command)


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
