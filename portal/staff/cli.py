"""`flask staff ...`: operator commands for staff accounts."""
import sys

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.staff import services

staff_cli = AppGroup("staff", help="Staff account commands.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True,
              help="customer_service, collector, collections_manager, risk, legal or admin; repeat for several.")
@click.option("--name", required=True, help="The person's full name.")
def create(email, roles, name):
    """Create a staff user. The password is read from stdin (prompted, hidden, on a terminal).

    Prints the otpauth:// URI to load into the person's authenticator app.
    """
    password = _read_password()
    try:
        staff = services.create_staff(email, name, roles, password, actor=("system", "cli"))
    except services.StaffError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Created staff user {staff.email} with roles: "
               f"{', '.join(sorted(r.value for r in staff.roles))}")
    click.echo("Add this to the person's authenticator app (it is shown only now):")
    click.echo(services.provisioning_uri(staff))
