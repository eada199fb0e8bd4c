"""`flask jobs ...`: the batch-job command group (other features add their commands here)."""
from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import datetime

import click
from flask.cli import AppGroup

from portal.collections.reminders import send_reminders
from portal.core.today import staff_today
from portal.experiments.assignment import assign_new
from portal.extensions import db
from portal.jobs.nightly import count_candidates, run_nightly
from portal.plans.jobs import run_plan_monitoring

jobs_cli = AppGroup("jobs", help="Batch jobs: nightly accrual and escalation, and more.")


@jobs_cli.command("nightly")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Process every account up to this day (YYYY-MM-DD). "
                   "Default: the last day that has ended in each cardholder's time zone.")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10000),
              help="Accounts per transaction.")
def nightly(as_of, batch_size):
    """Check plans, then post interest and fees, move stages, record consequences and
    issue notices."""
    day = as_of.date() if as_of else None
    # Plans first: a plan broken today must not keep pausing today's escalation.
    plans = run_plan_monitoring(day)
    click.echo(plans.line())
    total = count_candidates(day)
    show = sys.stderr.isatty()
    with click.progressbar(length=total, label="Nightly run", file=sys.stderr,
                           hidden=not show) as bar:
        summary = run_nightly(day, batch_size=batch_size, progress=bar.update)
    click.echo(summary.line())
    return {**plans.counts(), **asdict(summary)}  # recorded in job_run (portal.cli)


@jobs_cli.command("reminders")
@click.option("--now", "now", default=None,
              help="Pretend it is this aware ISO moment (replays and tests); default: the clock.")
def reminders(now):
    """Queue reminders: plan payments due soon or missed, promised payments due soon. Each
    is sent once per payment or promise, so run it as often as you like (hourly)."""
    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and moment.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-12-31T00:00:00+00:00")
    summary = send_reminders(moment)
    click.echo(summary.line())
    return asdict(summary)  # recorded in job_run (portal.cli)


@jobs_cli.command("experiments")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the assignments are dated (YYYY-MM-DD); default: today (UTC).")
def experiments(as_of):
    """Assign accounts that became overdue since to the arms of experiments that have not
    ended; accounts already assigned stay where they are. Run it as often as you like."""
    counts = assign_new(as_of.date() if as_of else staff_today())
    db.session.commit()
    click.echo(f"experiments open: {counts['experiments']}, "
               f"accounts assigned: {counts['assigned']}")
    return counts  # recorded in job_run (portal.cli)
