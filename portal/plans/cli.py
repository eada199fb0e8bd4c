"""`flask jobs plans`: the nightly plan monitoring, added to the jobs command group."""
from __future__ import annotations

import click

from portal.jobs.cli import jobs_cli


@jobs_cli.command("plans")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check plans as of this day (YYYY-MM-DD). "
                   "Default: today in each cardholder's time zone.")
def plans(as_of):
    """Mark missed instalments, break plans after the grace days, complete paid plans."""
    from portal.plans.jobs import run_plan_monitoring

    click.echo(run_plan_monitoring(as_of.date() if as_of else None).line())
