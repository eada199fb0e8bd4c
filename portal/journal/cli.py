"""`flask journal ageing [--days N]`: portal movements the issuer has not acknowledged.

Exit codes: 0 none older than N days, 1 some are (listed, oldest first), so a scheduler or a
monitor notices a lost export.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.domain.money import to_major
from portal.journal.services import LIMIT, unacknowledged
from portal.timeutil import utcnow

journal_cli = AppGroup("journal", help="The journal with the issuer's core system.")


@journal_cli.command("ageing")
@click.option("--days", type=click.IntRange(0), default=None,
              help="Report movements older than this many days (default: JOURNAL_ACK_DAYS).")
def ageing_command(days):
    """List portal movements no feed has acknowledged after N days."""
    days = current_app.config["JOURNAL_ACK_DAYS"] if days is None else days
    rows = unacknowledged(utcnow(), days)
    for row in rows:
        click.echo(f"{row.movement_id} account {row.account_number} {row.kind} "
                   f"{to_major(row.amount, row.currency)} {row.currency} posted "
                   f"{row.posted_at.isoformat()} ({row.age_days} days)")
    more = " or more" if len(rows) == LIMIT else ""
    click.echo(f"{len(rows)}{more} portal movements not acknowledged by the issuer after "
               f"{days} days", err=True)
    if rows:
        raise SystemExit(1)
