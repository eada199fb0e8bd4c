"""`flask outbox deliver`: send what is due (deferred by quiet hours, or left by a crash)."""
from datetime import datetime

import click
from flask.cli import AppGroup

from portal.outbox.services import deliver_due

outbox_cli = AppGroup("outbox", help="Outgoing email and SMS.")


@outbox_cli.command("deliver")
@click.option("--now", "now", default=None,
              help="Pretend it is this aware ISO moment (replays and tests); default: the clock.")
def deliver(now):
    """Deliver every message that is due now. Run it every few minutes: messages held back
    by quiet hours go out when their cardholder's window opens. Several runs at once are
    safe: each message is written once and no cap is exceeded."""
    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and moment.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-12-31T00:00:00+00:00")
    delivered = deliver_due(moment)
    click.echo(f"delivered {delivered} message(s)")
    return {"delivered": delivered}  # recorded in job_run (portal.cli)
