"""`flask contact sms-stop PHONE` / `sms-start PHONE`: record a STOP or START text.

The SMS provider's inbound webhook (or an operator reading replies) calls these with the
sender's number in the form stored on the cardholder (E.164, e.g. +8613800000001).
"""
import click
from flask.cli import AppGroup

from portal.contact.services import sms_stop
from portal.extensions import db

contact_cli = AppGroup("contact", help="Cardholder contact preferences.")


@contact_cli.command("sms-stop")
@click.argument("phone")
def stop(phone):
    """A cardholder texted STOP: no more collection or service texts to this number."""
    changed = sms_stop(phone)
    db.session.commit()
    click.echo(f"texts stopped for {changed} cardholder(s) with {phone}")


@contact_cli.command("sms-start")
@click.argument("phone")
def start(phone):
    """A cardholder texted START: texts to this number are on again."""
    changed = sms_stop(phone, on=True)
    db.session.commit()
    click.echo(f"texts started for {changed} cardholder(s) with {phone}")
