"""`flask links revoke --cardholder ID`: stop every one-tap link of a cardholder at once
(a lost phone, a shared mailbox, a complaint). Setting or resetting the password and signing
out stop them too, without this command (portal/links/services.py)."""
import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.links.services import revoke_for_cardholder

links_cli = AppGroup("links", help="One-tap links in messages.")


@links_cli.command("revoke")
@click.option("--cardholder", "cardholder_id", type=int, required=True,
              help="The cardholder's id.")
def revoke(cardholder_id):
    """Revoke every one-tap link of the cardholder that still works."""
    count = revoke_for_cardholder(cardholder_id)
    db.session.commit()
    click.echo(f"one-tap links revoked: {count}")
