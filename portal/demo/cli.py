"""`flask demo load` and `flask demo logins`: a populated portal for trying it out (never production)."""
import unicodedata

import click
from flask.cli import AppGroup

from portal.demo.services import DemoRefused, load_demo, login_rows, refuse_in_production

demo_cli = AppGroup("demo", help="Demo data (refused when PORTAL_ENV=production).")

CARDHOLDER_HEADER = ["cardholder", "phone", "email", "password", "language", "profile",
                     "account", "days past due"]
STAFF_HEADER = ["role", "email", "password", "TOTP secret", "code now"]


@demo_cli.command("load")
def load():
    """Create or refresh the demo cardholders, accounts and staff; safe to run repeatedly."""
    try:
        result = load_demo()
    except DemoRefused as exc:
        raise click.ClickException(str(exc))
    click.echo(result.summary())


@demo_cli.command("logins")
def logins():
    """Print the demo sign-ins: cardholder passwords, staff passwords and current TOTP codes."""
    try:
        refuse_in_production()
    except DemoRefused as exc:
        raise click.ClickException(str(exc))
    cardholders, staff = login_rows()
    click.echo("Demo cardholders (sign in with phone or email and the password):")
    click.echo(format_table(CARDHOLDER_HEADER, cardholders))
    click.echo("")
    click.echo("Demo staff (email, password, then the 6-digit code from the TOTP secret;")
    click.echo("the code shown changes every 30 seconds, run `flask --app wsgi demo logins` again):")
    click.echo(format_table(STAFF_HEADER, staff))


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])
