"""`flask accounts import` and `flask jobs nightly` show a progress bar on a terminal, and none
when their output goes to a file or a pipe (cron logs stay readable).

The terminal is a real pseudo-terminal: the command runs as an operator would start it."""
import os
import pty
import select
import subprocess
import sys
import time
from datetime import date

from sqlalchemy import func, select as sql_select

from portal import ROOT
from portal.accounts.models import Account
from portal.extensions import db as _db
from tests.clock import child_environ
from tests.integration.test_import import feed_row, write_csv

ROWS = 40


def on_terminal(app, *args, timeout=120) -> str:
    """Run `flask --app wsgi ARGS` with stdout and stderr on a pseudo-terminal, against the
    tests' database, at the test's moment; return what the terminal showed."""
    env = child_environ(PORTAL_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                        OUTBOX_DIR=app.config["OUTBOX_DIR"], UPLOAD_DIR=app.config["UPLOAD_DIR"])
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                            env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    shown, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            shown.append(chunk)
        else:
            proc.kill()  # still talking at the deadline
        # A plain wait: a timed one polls with time.sleep, which libfaketime breaks.
        assert proc.wait() == 0, b"".join(shown)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return b"".join(shown).decode("utf-8", "replace")


def _feed(tmp_path):
    return write_csv(tmp_path / "feed.csv", [feed_row(n) for n in range(1, ROWS + 1)])


def test_import_on_a_terminal_shows_a_progress_bar(app, db, tmp_path):
    shown = on_terminal(app, "accounts", "import", _feed(tmp_path))
    assert "Importing" in shown and "100%" in shown
    assert "[" in shown and "#" in shown  # the bar itself, drawn in place
    assert _db.session.scalar(sql_select(func.count(Account.id))) == ROWS


def test_import_into_a_pipe_shows_no_bar(runner, tmp_path):
    result = runner.invoke(args=["accounts", "import", _feed(tmp_path)])
    assert result.exit_code == 0
    assert "Importing" not in result.output and "%" not in result.output


def test_nightly_on_a_terminal_shows_a_progress_bar(app, make_account):
    for _ in range(3):
        make_account(oldest_unpaid_due_date=date(2026, 10, 1))
    shown = on_terminal(app, "jobs", "nightly", "--as-of", "2026-11-28")
    assert "Nightly run" in shown and "100%" in shown


def test_nightly_into_a_pipe_shows_no_bar(runner, make_account):
    make_account(oldest_unpaid_due_date=date(2026, 10, 1))
    result = runner.invoke(args=["jobs", "nightly", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    assert "Nightly run" not in result.output and "%" not in result.output
