"""The database connection around a request (issue 15: a page costs its round trips).

Two things every request paid in round trips, and what replaces them:

- **Checking a pooled connection.** `pool_pre_ping` sent `SELECT 1` at every checkout. A
  connection the server has closed (a restart, `pg_terminate_backend`, an idle timeout) has
  told us so: its socket is readable although we asked nothing. `closed_by_server` looks at
  the socket (one `poll`, no round trip) and the pool then opens a fresh connection instead.
  A connection that died silently (a firewall dropping idle connections) is at most
  `pool_recycle` seconds old (config.py); one that dies between the check and the first
  statement gives the styled 503 with Retry-After (`core.errors`), never a 500, and the pool
  drops it.
- **BEGIN and ROLLBACK on a page that writes nothing.** A view marked `read_only` runs its
  statements without a transaction (the connection in autocommit: psycopg then sends no BEGIN,
  and the rollback when the connection goes back to the pool has nothing to undo). At READ
  COMMITTED each statement saw its own snapshot anyway, so the reads see what they saw. A
  write in such a request is refused before it reaches the database (`_refuse_writes`).
"""
from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

from flask import Flask, current_app, request
from sqlalchemy import Connection, Engine, event, exc
from sqlalchemy.orm import Session

from portal.extensions import db

READ_ONLY = "portal_read_only"  # Session.info key: this request's session writes nothing


class WriteInReadOnlyRequest(RuntimeError):
    """A view marked `read_only` tried to write (a programming error: unmark the view)."""


def read_only(view):
    """Mark a view whose request writes nothing to the database: its statements run without
    BEGIN and ROLLBACK (see the module docstring). Put it outermost, under the route."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)
    wrapper.read_only = True
    return wrapper


def begin_read_only() -> None:
    """Before any statement of a request to a `read_only` view (a before_request hook
    registered ahead of the ones that load the user): an autocommit connection."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or not getattr(view, "read_only", False):
        return
    session = db.session()
    if session.in_transaction():  # something read already: leave the request as it is
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    session.info[READ_ONLY] = True


@event.listens_for(Session, "before_flush")
def _refuse_flush(session, flush_context, instances) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise WriteInReadOnlyRequest("a read-only view changed rows")


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes(state) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update
                                              or state.is_delete):
        raise WriteInReadOnlyRequest("a read-only view wrote")


@event.listens_for(Session, "after_soft_rollback")
def _forget_read_only(session, previous_transaction) -> None:
    # An error page rolls the session back and may go on reading: it is no longer the view's.
    session.info.pop(READ_ONLY, None)


def closed_by_server(dbapi_connection) -> bool:
    """True when the server has closed this idle pooled connection (psycopg 3): it is closed
    or broken on our side, or its socket is readable (the server's goodbye, or end of file)
    while no statement is in flight. No round trip: one `poll` with no wait."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # noqa: BLE001 - psycopg raises OperationalError on a closed pgconn
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


_KEPT: list[Connection] = []  # this process's idle kept autocommit connections (`kept_autocommit`)


@contextmanager
def kept_autocommit(engine: Engine) -> Iterator[Connection]:
    """An autocommit Core connection on `engine` (PostgreSQL, psycopg), kept by the process
    between uses: for a hot statement a request sends on its own, outside any transaction
    (the webhook inbox's insert, `payments.webhooks.accept`). Taking a pooled connection and
    giving it back, with autocommit set and reset each time, was about a third of that
    request's CPU in-process (bench/README.md, "Postings first, receipts after").

    The idle kept connections are a stack (`_KEPT`; `list.pop` and `append` are atomic, so
    threads need no lock): a use takes the last one given back, so there are at most as many
    as uses ever ran at once, whatever the server's threading. One of another engine (another
    app), or one the server has closed (`closed_by_server`, no round trip), is given back to
    its pool instead. The block's statements each commit on their own; after an error in the
    block the connection goes back to the pool (which drops it if it was lost). Not for a
    forked child: use it in the process that made it."""
    conn = None
    while conn is None:
        try:
            candidate = _KEPT.pop()
        except IndexError:
            break
        if candidate.engine is engine and not candidate.invalidated and not candidate.closed \
                and not closed_by_server(candidate.connection.dbapi_connection):
            conn = candidate
        else:
            candidate.close()
    if conn is None:
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield conn
        conn.commit()  # ends SQLAlchemy's own view of a transaction; nothing is sent
    except BaseException:
        conn.close()
        raise
    _KEPT.append(conn)


def _check_checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    if closed_by_server(dbapi_connection):
        # The pool discards this connection and checks out (or opens) another.
        raise exc.DisconnectionError("the server closed this pooled connection")


def init_app(app: Flask) -> None:
    """Check PostgreSQL connections at checkout without a round trip (see the docstring);
    SQLite's are files, nothing to check. After `db.init_app(app)`."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            event.listen(engine, "checkout", _check_checkout)
    app.before_request_funcs.setdefault(None, []).insert(0, begin_read_only)
