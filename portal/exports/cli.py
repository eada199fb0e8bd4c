"""`flask exports plans|payments|journal --since YYYY-MM-DD [--until ...] [--out PATH]`,
`flask exports anchors [--out-dir DIR]` and `flask audit anchor`.

Payments and the journal are selected by posting time (UTC days); export a day once it has
ended, so that re-running it gives the same file (docs/money.md)."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import with_appcontext

from portal.exports import anchors, journal, services


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD.") from None


def _run(kind: str, since: date, until: date | None, out: str | None) -> None:
    rows, columns = {
        "plans": (services.plan_rows, services.PLAN_COLUMNS),
        "payments": (services.payment_rows, services.PAYMENT_COLUMNS),
        "journal": (journal.journal_rows, journal.JOURNAL_COLUMNS),
    }[kind]
    if until is not None and until < since:
        raise click.BadParameter("--until is before --since.")
    if out:
        count = services.write_file(rows(since, until), columns, out)
        click.echo(f"exports {kind}: {count} rows written to {out}", err=True)
    else:
        services.write_csv(rows(since, until), columns, sys.stdout)


_options = [
    click.option("--since", required=True, callback=_date,
                 help="First day included (YYYY-MM-DD)."),
    click.option("--until", default=None, callback=_date,
                 help="Last day included (YYYY-MM-DD); default: no end."),
    click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
                 help="File to write (replaced atomically); default: standard output."),
]


def _with_options(fn):
    for option in reversed(_options):
        fn = option(fn)
    return fn


exports_cli = click.Group("exports", help="CSV exports for the issuer's core system.")


@exports_cli.command("plans")
@_with_options
@with_appcontext
def plans_command(since, until, out):
    """Agreed plans that started on or after --since, as CSV."""
    _run("plans", since, until, out)


@exports_cli.command("payments")
@_with_options
@with_appcontext
def payments_command(since, until, out):
    """Payments the portal posted (UTC) from --since to --until, as CSV."""
    _run("payments", since, until, out)


@exports_cli.command("journal")
@_with_options
@with_appcontext
def journal_command(since, until, out):
    """Every portal movement (payments, refunds, chargebacks, credits, waivers) posted (UTC)
    from --since to --until, as CSV, one row per ledger entry with its movement id."""
    _run("journal", since, until, out)


@exports_cli.command("anchors")
@click.option("--out-dir", type=click.Path(file_okay=False, writable=True), default=None,
              help="Directory to write to; default: AUDIT_ANCHOR_DIR.")
@click.option("--since-id", type=click.IntRange(min=0), default=0,
              help="First anchor number exported; default: all.")
@with_appcontext
def anchors_command(out_dir, since_id):
    """Every signed audit anchor as a file, audit-anchor-NNNNNN.json; files already there
    are left as they are (exit 1 if one differs from the database's anchor)."""
    try:
        done = anchors.export_anchors(out_dir, since_id)
    except anchors.AnchorFileClash as exc:
        click.echo(f"BROKEN: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"exports anchors: {len(done.written)} written, {done.unchanged} already there",
               err=True)


@click.command("anchor")
@with_appcontext
def audit_anchor_command():
    """Sign every audit stream's head (a global head) and export it to AUDIT_ANCHOR_DIR, to be
    copied off the database host. Run at least daily, after `jobs nightly` (docs/audit.md)."""
    try:
        run = anchors.anchor_and_export()
    except anchors.AnchorFileClash as exc:
        click.echo(f"BROKEN: {exc}", err=True)
        raise SystemExit(1) from None
    made = run.anchor
    click.echo(f"anchor {made.id}: {made.event_count} events in {made.stream_count} streams, "
               f"written to {run.path}")
