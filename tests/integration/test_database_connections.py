"""The connection around a request (portal.core.database, issue 15): no pre-ping round trip,
yet a pooled connection the server closed is never a 500; account pages read without BEGIN and
ROLLBACK and refuse to write."""
from __future__ import annotations

import select
import time

import psycopg
import pytest
from sqlalchemy import create_engine, event, update

from portal.accounts.models import Cardholder
from portal.core import database
from portal.extensions import db as _db


def _postgres(app) -> None:
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("closing a server's connection is a PostgreSQL matter (SQLite is a file)")


def _terminate_every_connection() -> int:
    """Close every other connection to the test database from the server side, as a restart,
    an idle timeout or an operator's pg_terminate_backend does."""
    url = _db.engine.url
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    others = ("FROM pg_stat_activity WHERE datname = current_database() "
              "AND pid <> pg_backend_pid()")
    with psycopg.connect(dsn, autocommit=True) as conn:
        closed = conn.execute(f"SELECT count(pg_terminate_backend(pid)) {others}").fetchone()[0]
        for _ in range(500):  # the backends leave shortly after the signal (at most 5 s)
            if not conn.execute(f"SELECT count(*) {others}").fetchone()[0]:
                break
            time.sleep(0.01)
    return closed


def _warm(client) -> None:
    assert client.get("/home").status_code == 200
    _db.session.rollback()  # the test's own pooled connection goes back too


def test_a_connection_closed_by_the_server_is_replaced_without_an_error(
        client, login_as, make_account, db):
    account = make_account()
    _postgres(client.application)
    login_as(client, account.cardholder)
    timeline = f"/accounts/{account.id}/timeline"
    _warm(client)
    assert _terminate_every_connection() >= 1
    for path in ("/home", timeline, "/home"):
        assert client.get(path).status_code == 200, path


def test_without_the_check_a_dead_connection_is_the_styled_503_then_recovers(
        client, login_as, make_account, db, monkeypatch):
    account = make_account()
    _postgres(client.application)
    login_as(client, account.cardholder)
    _warm(client)
    # As if the server closed the connection after the check: the first statement fails.
    monkeypatch.setattr(database, "closed_by_server", lambda dbapi_connection: False)
    _terminate_every_connection()
    response = client.get("/home", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "The portal is briefly unavailable" in response.get_data(as_text=True)
    assert "Content-Security-Policy" in response.headers
    # Each dead pooled connection fails one request at most, then the pool has dropped it:
    # never a 500. The pool recycles every older connection on a disconnect, by time.time(),
    # which the tests' clock moves: a connection opened under an earlier test's clock can look
    # newer than the disconnect, so each of the pool's connections may fail once here.
    pool = _db.engine.pool
    most = pool.size() + max(pool._max_overflow, 0) + 1
    statuses = []
    while len(statuses) < most and (not statuses or statuses[-1] != 200):
        statuses.append(client.get("/home").status_code)
    assert set(statuses) <= {200, 503} and statuses[-1] == 200, statuses


def test_the_check_sees_a_closed_connection_without_a_round_trip(app, db):
    _postgres(app)
    with _db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert not database.closed_by_server(raw)
        url = _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (raw.info.backend_pid,))
        poller = select.poll()  # wait (at most 5 s) for the server's goodbye to arrive
        poller.register(raw.pgconn.socket, select.POLLIN)
        poller.poll(5000)
        assert database.closed_by_server(raw)
        conn.invalidate()


def test_account_pages_read_without_a_transaction(client, login_as, make_account, db):
    account = make_account()
    login_as(client, account.cardholder)
    levels = []

    def on_begin(conn):
        levels.append(conn.get_execution_options().get("isolation_level"))

    event.listen(_db.engine, "begin", on_begin)
    try:
        for path in ("/home", f"/accounts/{account.id}/timeline",
                     f"/accounts/{account.id}", f"/accounts/{account.id}/history"):
            assert client.get(path).status_code == 200, path
    finally:
        event.remove(_db.engine, "begin", on_begin)
    assert levels and set(levels) == {"AUTOCOMMIT"}


def test_a_read_only_request_that_writes_is_refused(app, db, make_cardholder):
    holder = make_cardholder()
    _db.session.commit()
    with app.test_request_context("/home"):
        session = _db.session()
        session.info[database.READ_ONLY] = True
        try:
            with pytest.raises(database.WriteInReadOnlyRequest):
                session.execute(update(Cardholder).where(Cardholder.id == holder.id)
                                .values(full_name="Changed"))
            session.get(Cardholder, holder.id).full_name = "Changed"
            with pytest.raises(database.WriteInReadOnlyRequest):
                session.flush()
        finally:
            session.info.pop(database.READ_ONLY, None)
            session.rollback()



def _backend(conn) -> int:
    return conn.connection.dbapi_connection.info.backend_pid


def test_a_kept_autocommit_connection_is_reused_until_it_is_lost(app, db):
    _postgres(app)
    engine = _db.engine
    for idle in database._KEPT:  # another test's
        idle.close()
    database._KEPT.clear()
    with database.kept_autocommit(engine) as conn:
        first = _backend(conn)
        assert conn.connection.dbapi_connection.autocommit
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    with database.kept_autocommit(engine) as conn:
        assert _backend(conn) == first  # kept: no checkout, no autocommit set again
        with database.kept_autocommit(engine) as nested:  # in use: another one
            second = _backend(nested)
            assert second != first
    assert {_backend(c) for c in database._KEPT} == {first, second}  # both kept, idle
    # an error in the block: the connection goes back to the pool, not to the kept ones
    with pytest.raises(ZeroDivisionError):
        with database.kept_autocommit(engine) as conn:
            lost = conn
            1 / 0
    assert lost.closed and lost not in database._KEPT
    # the server closes them between two uses: seen without a round trip, replaced
    _terminate_every_connection()
    with database.kept_autocommit(engine) as conn:
        assert _backend(conn) not in (first, second)
        assert conn.exec_driver_sql("SELECT 3").scalar() == 3
    assert len(database._KEPT) == 1
    # another engine (another app): the kept ones of the first go back to their pool
    previous = database._KEPT[0]
    other = create_engine(engine.url)
    try:
        with database.kept_autocommit(other) as conn:
            assert conn.engine is other
        assert previous.closed and database._KEPT == [conn]
    finally:
        for idle in database._KEPT:
            idle.close()
        database._KEPT.clear()
        other.dispose()
