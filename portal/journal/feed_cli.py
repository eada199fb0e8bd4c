"""`flask accounts import PATH`: load the issuer's account feed.

Exit codes: 0 every row loaded, 1 some rows were rejected (see the rejects file),
2 the file could not be read at all (missing, not UTF-8, wrong header) or a batch clashed
with a concurrent change.
"""
import sys

import click
from flask.cli import AppGroup

from portal.journal.feed_io import FeedFileError, count_lines
from portal.journal.importer import BATCH_SIZE, ImportConflict, import_file

accounts_cli = AppGroup("accounts", help="Account feed commands.")

# How many rejected rows are echoed; the rejects file always has them all.
SHOWN_REJECTS = 20


@accounts_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False),
              help="Where to write refused rows (default: PATH.rejects.csv or .jsonl).")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1),
              help="Rows per committed transaction.")
def import_command(path, rejects_path, batch_size):
    """Load a CSV or JSON Lines account feed; re-running the same file changes nothing."""
    try:
        if sys.stdout.isatty():
            result = _import_with_bar(path, rejects_path, batch_size)
        else:
            result = import_file(path, rejects_path=rejects_path, batch_size=batch_size)
    except FeedFileError as exc:
        click.echo(f"Cannot import {path}: {exc}", err=True)
        raise SystemExit(2)
    except ImportConflict as exc:
        click.echo(f"Import stopped: {exc}", err=True)
        raise SystemExit(2)

    for line, reason in result.rejects[:SHOWN_REJECTS]:
        click.echo(f"line {line}: {reason}", err=True)
    if result.rejected > SHOWN_REJECTS:
        click.echo(f"... and {result.rejected - SHOWN_REJECTS} more rejected rows", err=True)
    click.echo(result.summary())
    if result.rejected:
        click.echo(f"Rejected rows written to {result.rejects_path}")
        raise SystemExit(1)


def _import_with_bar(path, rejects_path, batch_size):
    total = count_lines(path)
    with click.progressbar(length=total, label="Importing", file=sys.stdout) as bar:
        done = 0

        def advance(line: int) -> None:
            nonlocal done
            if line > done:
                bar.update(line - done)
                done = line

        result = import_file(path, rejects_path=rejects_path, batch_size=batch_size,
                             progress=advance)
        bar.update(max(0, total - done))
    return result
