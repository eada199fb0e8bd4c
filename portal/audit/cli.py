"""`flask audit verify`: prove the audit log has not been edited."""
import click
from flask.cli import AppGroup

from portal.audit.services import verify_chain

audit_cli = AppGroup("audit", help="Audit log commands.")


@audit_cli.command("verify")
def verify():
    """Check every link of the hash chain and its head; exit 1 naming the first broken one."""
    checked, broken = verify_chain()
    if broken:
        if broken.event_id is None:
            click.echo(f"BROKEN: {broken.reason} ({checked} events checked)", err=True)
        else:
            click.echo(f"BROKEN at audit event {broken.event_id}: {broken.reason} "
                       f"({checked} events before it are intact)", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {checked} audit events, chain intact")
