"""Shared fixtures: an app per test worker, a clean database per test, factories, sign-in."""
from __future__ import annotations

import os
import shutil

import pyotp
import pytest
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy.engine import make_url

os.environ["PORTAL_ENV"] = "testing"

from portal import create_app  # noqa: E402
from portal.extensions import db as _db, limiter  # noqa: E402
from tests.clock import BASE, TODAY, Clock  # noqa: E402,F401  (TODAY: tests import it from here)
from tests.helpers import empty_tables  # noqa: E402

# No per-example deadline: on a busy machine (parallel workers, CI beside other jobs) an
# example's first run, which imports and warms caches, can take longer than Hypothesis's
# 200 ms default and fail a test that is correct (seen: tests/unit/test_bulk_copy_texts.py
# under -n 2). A test that needs a deadline sets its own.
settings.register_profile("portal", deadline=None)
settings.load_profile("portal")

pytest_plugins = ["tests.factories", "tests.required_plugin", "tests.pdf_reading",
                  "tests.s3_server"]

STAFF_PASSWORD = "staff-Password-2026"
CARDHOLDER_PASSWORD = "Correct-Horse-42"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _postgres_url(base: str) -> str:
    """One database per xdist worker, recreated empty so migrations run from nothing."""
    import psycopg

    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"{url.database or 'portal_test'}_{_worker()}"
    admin = url.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def database_url(tmp_root) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        return _postgres_url(base)
    return f"sqlite:///{tmp_root / 'portal.db'}"


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The `db` fixture keeps an app context open for the test body; without this, every request
    would reuse it and share `g` (cached locale, signed-in user, CSRF state) and the test's
    database session with the next request.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # The request committed in its own session: let the test's objects reload.
        _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("instance")
    os.environ["PORTAL_INSTANCE_PATH"] = str(root)
    application = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(root),
        "OUTBOX_DIR": str(root / "outbox"),
        # the file transports unless a test asks otherwise (tests/delivery_peers.py)
        "OUTBOX_TRANSPORT": "file",
        "SMS_TRANSPORT": "file",
        "UPLOAD_DIR": str(root / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "PORTAL_NOW": None,  # the tests' clock is the `clock` fixture, never the environment
        # webhooks posted in their request (a test with a broker too); the inbox's own tests
        # turn it on (tests/integration/test_webhook_inbox*.py)
        "WEBHOOK_INBOX": "0",
    })
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()  # the real migrations, from empty: the models must match them

    application.test_client_class = FreshContextClient
    return application


@pytest.fixture(autouse=True)
def clock():
    """The test's "now": BASE (09:00 in Shanghai on TODAY), ticking; see tests/clock.py."""
    test_clock = Clock(BASE)
    yield test_clock
    test_clock.stop()


@pytest.fixture()
def db(app):
    """The database, empty at the start of every test (rows are removed afterwards)."""
    ctx = app.app_context()
    ctx.push()
    yield _db
    _db.session.rollback()
    _db.session.remove()
    # The ledger and the audit log refuse DELETE by trigger on PostgreSQL (migration 0016): the
    # suite's cleanup runs as a superuser with the triggers off for its transaction.
    empty_tables()
    limiter.reset()
    shutil.rmtree(app.config["OUTBOX_DIR"], ignore_errors=True)
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)
    ctx.pop()


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture()
def login_as(app, clock):
    """Sign a client in as a cardholder or staff user without going through the forms.

    Such a session starts afresh whenever the test moves the clock, as if the person signed in
    again then: tests of session ages sign in and age the session themselves.
    """
    from portal.timeutil import utcnow

    def _kept(client):
        # Read before the move: afterwards the test client may have dropped the cookie as expired.
        with client.session_transaction() as sess:
            return dict(sess)

    def _restamp(client, kept):
        if "_user_id" not in kept:
            return  # signed out meanwhile: stays signed out
        with client.session_transaction() as sess:
            sess.update(kept)
            sess["started"] = sess["last_seen"] = utcnow().timestamp()

    def _login(client, user):
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
            sess["sid"] = "test"
            sess["sv"] = user.session_version
            sess["started"] = sess["last_seen"] = utcnow().timestamp()
        clock.on_move(lambda: _kept(client), lambda kept: _restamp(client, kept))
        return client
    return _login


@pytest.fixture()
def totp_now():
    def _code(staff):
        return pyotp.TOTP(staff.totp_secret).now()
    return _code


@pytest.fixture()
def outbox(app):
    """Read what was "sent": a list of dicts with channel, to, subject and body."""
    from tests.outbox_reader import read_outbox

    return lambda: read_outbox(app.config["OUTBOX_DIR"])

