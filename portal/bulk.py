"""Bulk writes for batch work (the feed import, its audit events), in the session's transaction.

Ids are taken ahead so rows can name each other before they are written; rows go in with COPY
on PostgreSQL (executemany elsewhere); changed rows are updated from a staged copy in one
statement. Nothing here knows a feature: callers pass tables, columns and plain values (enums
as their stored strings), exactly what the ORM would have written.
"""
from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

import psycopg
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import JSON, BigInteger, Date, DateTime, Table, any_, bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from portal.extensions import db


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def ids_in(column, postgres: bool, name: str = "ids"):
    """`column` among the ids bound as `name` per call: on PostgreSQL one array (`= ANY`: the
    same text and compiled form whatever their number), elsewhere an expanding IN. For
    statements built once per process (`postgres`: `is_postgres()` at the call)."""
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    return column.in_(bindparam(name, expanding=True))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off for a batch job's duration (restored after,
    as it was). A batch holds hundreds of thousands of live objects (rows, dicts, tuples), none
    of them in a cycle that outlives the batch; the collector's full passes over them were a
    quarter of a 20,000-row feed import's Python CPU (bench/README.md, "import4"). Plain
    reference counting frees everything as before; only the traversals are saved. For
    command-line batch work (not in a web worker: the setting is the whole process's)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _driver_connection():
    return db.session.connection().connection.driver_connection


def _cursor():
    return _driver_connection().cursor()


def _copy(table_name: str, columns: Sequence[str], rows: Iterable[Sequence],
          json_at: Sequence[int] = (), dated_at: Sequence[int] = (), connection=None) -> None:
    """COPY `rows` in; the values at `json_at` dumped as SQLAlchemy's JSON type would, those
    at `dated_at` (dates and times, or None) sent as the text the driver gives them.
    `connection`: the session's driver connection, taken by the caller (another thread)."""
    statement = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
    try:
        with (connection or _driver_connection()).cursor() as cur, cur.copy(statement) as copy:
            if json_at or dated_at:
                texts = _date_texts(Transformer.from_context(cur))
                rows = _prepared(rows, json_at, dated_at, texts)
            for row in rows:
                copy.write_row(row)
    except psycopg.IntegrityError as exc:
        # As SQLAlchemy reports it for its own statements, so callers catch one exception.
        raise IntegrityError(statement, None, exc) from exc


def _prepared(rows: Iterable[Sequence], json_at: Sequence[int], dated_at: Sequence[int],
              date_text: Callable) -> Iterator[list]:
    for row in rows:
        row = list(row)
        for i in json_at:
            # What SQLAlchemy's JSON type writes: json.dumps, None as JSON null.
            row[i] = json.dumps(row[i])
        for i in dated_at:
            value = row[i]
            if value is not None:
                row[i] = date_text(value)
        yield row


def _date_texts(transformer: Transformer) -> Callable:
    """value -> the text the driver's own dumper writes for a date or datetime, remembered
    per distinct value: the driver's date and time dumpers were two thirds of a COPY row's
    cost (60,000 ledger rows 0.34 -> 0.11 s), and a batch's dates repeat (its clock, the
    feed's date). The text is sent as text, which COPY takes as it is: the same bytes. Other
    values are given back unchanged."""
    texts: dict = {}

    def date_text(value):
        kind = type(value)
        if kind is datetime:
            # Equal datetimes with equal offsets have the same fields and text (equality
            # alone ignores the offset between zones and `fold`).
            key = (kind, value, value.utcoffset())
        elif kind is date:
            key = (kind, value)
        else:
            return value
        found = texts.get(key)
        if found is None:
            dumped = transformer.get_dumper(value, PyFormat.TEXT).dump(value)
            found = texts[key] = bytes(dumped).decode()
        return found
    return date_text


def _dated(types) -> list[int]:
    """Positions of the date and time columns among SQLAlchemy `types`."""
    return [i for i, kind in enumerate(types) if isinstance(kind, (Date, DateTime))]


def settle_in() -> None:
    """Settings for a bulk transaction on PostgreSQL: no JIT (compiling a big join's plan took
    longer than running it) and room to sort and hash in memory. Only for this transaction."""
    if is_postgres():
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def fetch_all(statement) -> list[tuple]:
    """All rows of a select as plain tuples of the driver's values (enums as their stored
    text): for batch reads of many rows, where SQLAlchemy's per-row result processing costs
    more than the query. On PostgreSQL the statement runs on the driver's cursor."""
    if not is_postgres():
        return [tuple(row) for row in db.session.connection().execute(statement).all()]
    compiled = statement.compile(dialect=db.session.get_bind().dialect)
    with _cursor() as cur:
        cur.execute(str(compiled), compiled.params)
        return cur.fetchall()


def allocate_ids(table: Table, n: int) -> list[int]:
    """`n` fresh primary keys for `table`, ascending, reserved for this transaction's inserts."""
    if n <= 0:
        return []
    if is_postgres():
        # One array, not n rows: fetching 100,000 rows through SQLAlchemy cost a second. The
        # sequence is looked up once (a scalar subquery), not once per id: 11x less server time.
        return sorted(db.session.scalar(
            text("SELECT array_agg(nextval((SELECT CAST(pg_get_serial_sequence(:t, 'id') "
                 "AS regclass)))) FROM generate_series(1, :n)"), {"t": table.name, "n": n}))
    # SQLite serialises writers: a write that changes nothing takes the database's write lock
    # before the highest id is read, so no other writer can take the same ids.
    db.session.execute(text(f"UPDATE {table.name} SET id = id WHERE 1 = 0"))
    start = (db.session.scalar(text(f"SELECT max(id) FROM {table.name}")) or 0) + 1
    return list(range(start, start + n))


def insert_rows(table: Table, columns: Sequence[str], rows: list[Sequence],
                connection=None) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`. `connection`: see `_copy`."""
    if not rows:
        return
    if connection is not None or is_postgres():
        types = [table.c[name].type for name in columns]
        _copy(table.name, columns, rows,
              json_at=[i for i, kind in enumerate(types) if isinstance(kind, JSON)],
              dated_at=_dated(types), connection=connection)
        return
    db.session.execute(table.insert(), [dict(zip(columns, row)) for row in rows])


@contextmanager
def inserted_behind(*inserts: tuple[Table, Sequence[str], list[Sequence]]) -> Iterator[None]:
    """Insert each (table, columns, rows) of `inserts`, in order, while the body runs: on
    PostgreSQL a helper thread sends the COPYs on the session's own connection (the same
    transaction), so the server inserts, checks keys and fires triggers while this thread
    works in Python; elsewhere they are inserted first. Leaving the block waits for the
    inserts and raises what they raised (after the body's own error, if it had one).

    The body must not use the database, the session or anything else of the connection's
    (the helper holds it). The helper uses nothing of the application's: only the driver's
    connection, taken here."""
    if not is_postgres():
        for insert in inserts:
            insert_rows(*insert)
        yield
        return
    connection = _driver_connection()
    failed: list[BaseException] = []

    def send() -> None:
        try:
            for insert in inserts:
                insert_rows(*insert, connection=connection)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failed.append(exc)

    helper = threading.Thread(target=send, name="inserted_behind", daemon=True)
    helper.start()
    try:
        yield
    finally:
        helper.join()
    if failed:
        raise failed[0]


def update_rows(table: Table, key: str, columns: Sequence[str], rows: list[Sequence]) -> None:
    """Set `columns` of the rows of `table` whose `key` is each row's first value."""
    if not rows:
        return
    if is_postgres():
        stage = f"bulk_{table.name}"
        names = [key, *columns]
        db.session.execute(text(f"DROP TABLE IF EXISTS {stage}"))
        db.session.execute(text(
            f"CREATE TEMP TABLE {stage} AS SELECT {', '.join(names)} FROM {table.name} "
            f"WITH NO DATA"))
        _copy(stage, names, rows, dated_at=_dated(table.c[name].type for name in names))
        sets = ", ".join(f"{c} = s.{c}" for c in columns)
        db.session.execute(text(f"UPDATE {table.name} t SET {sets} FROM {stage} s "
                                f"WHERE t.{key} = s.{key}"))
        db.session.execute(text(f"DROP TABLE {stage}"))
        return
    statement = (update(table).where(table.c[key] == bindparam("b_key"))
                 .values({c: bindparam(f"b_{c}") for c in columns}))
    db.session.execute(statement, [
        {"b_key": row[0], **{f"b_{c}": v for c, v in zip(columns, row[1:])}} for row in rows],
        execution_options={"synchronize_session": False})


def stage_table(name: str, columns: Sequence[tuple[str, str]], rows: list[Sequence]) -> None:
    """A temporary table `name` (columns as (name, SQL type)) holding `rows`, for joins; it
    replaces any earlier one of that name on this connection."""
    db.session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    db.session.execute(text(
        f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)})"))
    names = [c for c, _ in columns]
    if is_postgres():
        _copy(name, names, rows, dated_at=[i for i, (_, kind) in enumerate(columns)
                                           if kind.upper().startswith(("DATE", "TIMESTAMP"))])
    elif rows:
        marks = ", ".join(f":{c}" for c in names)
        db.session.execute(text(f"INSERT INTO {name} ({', '.join(names)}) VALUES ({marks})"),
                           [dict(zip(names, row)) for row in rows])
