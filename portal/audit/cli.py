"""`flask audit verify`: prove the audit log has not been edited. `flask audit anchor` signs
and exports the global head; it lives with the exports (`portal/exports/cli.py`), which
sit above the audit log, and joins this group in `portal/cli.py`."""
import json
from datetime import timedelta

import click
from flask.cli import AppGroup

from portal.audit.services import newest_anchor, verify_chain
from portal.timeutil import as_aware, utcnow

STALE_ANCHOR = timedelta(hours=26)  # anchors are taken at least daily

audit_cli = AppGroup("audit", help="Audit log commands.")


@audit_cli.command("verify")
@click.option("--anchor", "anchor_file", type=click.File("r"), default=None,
              help="An anchor file written by `flask audit anchor`, read back from outside the "
                   "database: the log must match it too.")
def verify(anchor_file):
    """Check every stream's keyed chain, its head and the newest anchor; exit 1 naming the
    first break."""
    external = json.load(anchor_file) if anchor_file else None
    checked, broken = verify_chain(external=external)
    if broken:
        if broken.event_id is None:
            click.echo(f"BROKEN: {broken.reason} ({checked} events checked)", err=True)
        else:
            click.echo(f"BROKEN at audit event {broken.event_id}: {broken.reason} "
                       f"({checked} events before it are intact)", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {checked} audit events, chain intact")
    anchor = newest_anchor()
    if anchor is None:
        click.echo("WARNING: no anchor yet: run `flask audit anchor` (at least daily)", err=True)
    elif utcnow() - as_aware(anchor.created_at) > STALE_ANCHOR:
        click.echo(f"WARNING: the newest anchor ({anchor.id}) is from "
                   f"{as_aware(anchor.created_at):%Y-%m-%d %H:%M} UTC: run `flask audit anchor` "
                   f"at least daily", err=True)
