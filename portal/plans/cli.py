"""`flask jobs plans`: the nightly plan monitoring (portal.cli adds it to the jobs group)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.plans.jobs import run_plan_monitoring


@click.command("plans")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check plans as of this day (YYYY-MM-DD). "
                   "Default: today in each cardholder's time zone.")
@with_appcontext
def plans_command(as_of):
    """Mark missed instalments, break plans after the grace days, complete paid plans."""
    summary = run_plan_monitoring(as_of.date() if as_of else None)
    click.echo(summary.line())
    return summary.counts()  # recorded in job_run (portal.cli)
