"""`flask outbox deliver`: send what a crash or an outage left queued."""
import click
from flask.cli import AppGroup

from portal.outbox.services import deliver_pending

outbox_cli = AppGroup("outbox", help="Outgoing email and SMS.")


@outbox_cli.command("deliver")
def deliver():
    """Deliver every message still waiting in the outbox."""
    total = 0
    while (sent := deliver_pending()):
        total += sent
    click.echo(f"delivered {total} message(s)")
