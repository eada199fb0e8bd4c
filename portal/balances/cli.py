"""`flask snapshots ...`: rebuild and check the ledger's closing snapshots."""
from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask.cli import AppGroup

from portal.balances.snapshots import mismatches, rebuild
from portal.timeutil import utcnow

snapshots_cli = AppGroup("snapshots", help="Closing snapshots of the ledger (docs/money.md).")


@snapshots_cli.command("rebuild")
@click.option("--through", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Close every account's snapshot through this day (YYYY-MM-DD). "
                   "Default: yesterday (UTC).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100000),
              help="Accounts per transaction.")
def rebuild_command(through, batch_size):
    """Rebuild every account's snapshot from its whole history (after a restore, or to move
    all snapshots to one day). Safe while the portal runs: each batch locks its accounts."""
    day = through.date() if through else utcnow().date() - timedelta(days=1)
    written = rebuild(day, batch_size=batch_size)
    click.echo(f"snapshots written: {written}, closed through {day.isoformat()}")


@snapshots_cli.command("verify")
def verify_command():
    """Compare every snapshot with its history summed; exit 1 if any differs."""
    wrong = mismatches()
    for account_id, held, history in wrong:
        click.echo(f"account {account_id}: snapshot {held}, history {history}")
    click.echo(f"snapshots that differ from the ledger: {len(wrong)}")
    if wrong:
        sys.exit(1)
