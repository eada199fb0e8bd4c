"""Page numbers from query strings, and one page of a query: whatever a link or a hand-edited
URL says, a list asks the database for a page it can express (a number beyond 64 bits made
SQLite raise, so a 500), and every staff list shows PER_PAGE rows at a time.

Lists that walk far (100,000 rows) page by key ("seek" or keyset pagination, `seek_page`):
the link to the next page carries the sort key of the last row shown (`after`), the link to
the previous page that of the first (`before`), and the database starts at that key in the
index that serves the order, so page 1,000 costs what page 1 does. A page number alone (a
bookmark, a hand-edited URL) still works: it skips rows (OFFSET) once, and its links go on by
key. The number a page shows is carried in its links (`page`); no list counts its rows.

A sort key that may be NULL is given as `NullsLast(column)`: ascending, its NULLs come after
every value (PostgreSQL's ascending order; SQLite's own puts them first), because the list
sorts and compares on the pair (column IS NULL, column), which an index on those two
expressions serves; a cursor writes a NULL as an empty key. A date key whose NULLs are few
is better given as `NullsBeyond(column, date.max)` (one expression, coalesce(column, date.max),
that PostgreSQL estimates well: see its notes).

A list whose query is built once per process (filters as bind parameters, their values in
`params`) has its page statements built once too: `seek_page` keeps each shape (first page by
number, after a key, before a key) under the query object, with the cursor's keys and the
offset as bind parameters, so a request neither builds the statement nor works out its cache
key again (SQLAlchemy then finds it compiled, as `portal.balances.sums` does for its own).

The row limit and the offset are written into the SQL, not sent as parameters: PostgreSQL
keeps one plan for a prepared statement (psycopg prepares what a connection runs often) only
when it knows how many rows are asked for; with LIMIT and OFFSET as parameters it planned the
page afresh on every request (about half the server's time on a page of 50 rows, issue 15).
The cursor's keys stay parameters; a page number's offset is one more SQL text for each
number asked for (a first page is OFFSET 0)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, inspect, literal, literal_column, tuple_

from portal.extensions import db

# Far beyond any list's length, and small enough that the row offset fits every database.
MAX_PAGE = 100_000
PER_PAGE = 50
# A cursor is a few keys (an id, a moment): anything longer is no link the portal wrote.
MAX_CURSOR = 200


def clamp_page(page: int | None) -> int:
    """`page` within 1..MAX_PAGE (None or below 1: the first page)."""
    return min(max(1, page or 1), MAX_PAGE)


def written(value, column):
    """`value` written into the statement's SQL when it runs, as `column`'s type gives it,
    instead of sent as a parameter: a list's fixed filter (a state), so PostgreSQL keeps one
    plan for the prepared page statement (the notes above)."""
    return literal(value, column.type, literal_execute=True)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    page: int
    has_next: bool
    # Sort keys of the last and first rows (see `seek_page`); None: links by page number.
    next_cursor: str | None = None
    previous_cursor: str | None = None

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    def next_args(self) -> dict:
        """Query arguments of the link to the next page."""
        if self.next_cursor:
            return {"after": self.next_cursor, "page": self.page + 1}
        return {"page": self.page + 1}

    def previous_args(self) -> dict:
        """Query arguments of the link to the previous page (none for the first page)."""
        if self.page <= 2:
            return {}
        if self.previous_cursor:
            return {"before": self.previous_cursor, "page": self.page - 1}
        return {"page": self.page - 1}


@dataclass(frozen=True)
class NullsLast:
    """A sort key of `seek_page` that may be NULL: sorted as (column IS NULL, column)."""
    column: Any

    def sql(self, value=None, *, cursor: bool = False) -> list[tuple]:
        """(expression, cursor value) pairs; a NULL cursor compares on the flag alone (the
        rows level with it are NULL too, and NULL compares with nothing)."""
        if cursor and value is None:
            return [(self.column.is_(None), True)]
        return [(self.column.is_(None), False), (self.column, value)]


@dataclass(frozen=True)
class NullsBeyond:
    """A sort key that may be NULL, its NULLs last as with `NullsLast`, sorted and compared as
    the one expression coalesce(column, beyond), `beyond` a date past every value the column
    holds (written into the SQL, so an index on that expression serves the order).

    Why not `NullsLast`: PostgreSQL estimates a row comparison by its first term, which for
    (column IS NULL, column) is "how many rows are NULL", next to none in a list whose rows
    mostly have the key. It then thought no row followed a cursor, planned every page after a
    key afresh (a custom plan each request: about 1 ms of the server's time on the worklist)
    and never kept the prepared statement's one plan; on coalesce(column, beyond) it has the
    column's own statistics, estimates what follows well and keeps one plan (issue 15). A
    cursor still writes a NULL as an empty key."""
    column: Any
    beyond: date

    def __post_init__(self):
        if type(self.beyond) is not date:  # a moment's text differs between the databases
            raise TypeError("NullsBeyond takes a date")

    @property
    def expression(self):
        return func.coalesce(self.column, literal_column(f"'{self.beyond.isoformat()}'",
                                                         self.column.type))

    def sql(self, value=None, *, cursor: bool = False) -> list[tuple]:
        """(expression, cursor value) pairs, as `NullsLast.sql` gives them."""
        return [(self.expression, value)]


_NULLABLE = (NullsLast, NullsBeyond)  # the sort keys that may be NULL


def _column(key):
    return key.column if isinstance(key, _NULLABLE) else key


def _sql_keys(keys) -> list:
    """The ORDER BY terms of `keys`, ascending."""
    return [expr for key in keys
            for expr, _ in (key.sql() if isinstance(key, _NULLABLE) else [(key, None)])]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, date)):  # datetime is a date
        return value.isoformat() if isinstance(value, date) else str(value)
    raise TypeError(f"no cursor text for {value!r}")


def _value(text: str, key):
    if isinstance(key, _NULLABLE) and text == "":
        return None
    kind = _column(key).type.python_type
    if kind is bool:
        return {"t": True, "f": False}[text]
    if kind is int:
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise ValueError(text)
        return int(text)
    if kind is datetime:
        return datetime.fromisoformat(text)
    if kind is date:
        return date.fromisoformat(text)
    raise TypeError(kind)


def encode_cursor(values) -> str:
    """The text of a cursor: each key's value, "_" between them (ISO 8601 moments keep no
    "_"; a NULL is empty)."""
    return "_".join(_text(v) for v in values)


def decode_cursor(text: str | None, keys) -> tuple | None:
    """The key values a cursor names, typed as `keys` (mapped columns or `NullsLast`); None
    for a missing or malformed cursor (a hand-edited link is not an error: the list starts over)."""
    if not text or len(text) > MAX_CURSOR:
        return None
    parts = text.split("_")
    if len(parts) != len(keys):
        return None
    try:
        return tuple(_value(part, key) for part, key in zip(parts, keys))
    except (KeyError, ValueError, TypeError, OverflowError):
        return None


def _key_values(row, keys) -> tuple | None:
    """The sort keys of `row`: an entity, a row of columns named as the keys, or a row whose
    first item is the entity."""
    fields = getattr(row, "_fields", None)
    columns = [_column(key) for key in keys]
    source = row if fields is None or all(c.key in fields for c in columns) else row[0]
    values = tuple(getattr(source, c.key) for c in columns)
    nullable = [isinstance(key, _NULLABLE) for key in keys]
    return None if any(v is None and not n for v, n in zip(values, nullable)) else values


def _nulls(keys, cursor) -> tuple[bool, ...]:
    """Which keys of `cursor` are NULL (a NULL cursor key compares on its flag alone, so the
    statement's shape depends on it)."""
    return tuple(isinstance(key, NullsLast) and value is None for key, value in zip(keys, cursor))


def _cursor_params(keys, cursor) -> dict:
    """The bind parameters of `_beyond` for `cursor`'s values (none for a NULL key, but a
    `NullsBeyond` key's NULL is its `beyond`)."""
    params = {}
    for i, (key, value) in enumerate(zip(keys, cursor)):
        if value is None and isinstance(key, NullsBeyond):
            value = key.beyond
        if value is not None:
            params[f"seek_key_{i}"] = value
    return params


def _beyond(keys, nulls, forward: bool):
    """Rows strictly after (forward) or before the cursor in the order of `keys`, its values as
    bind parameters (`_cursor_params`); `nulls` says which of them are NULL (`_nulls`)."""
    pairs = []
    for i, (key, null) in enumerate(zip(keys, nulls)):
        value = bindparam(f"seek_key_{i}", type_=_column(key).type)
        pairs += (key.sql(None if null else value, cursor=True)
                  if isinstance(key, _NULLABLE) else [(key, value)])
    left = pairs[0][0] if len(pairs) == 1 else tuple_(*(expr for expr, _ in pairs))
    right = pairs[0][1] if len(pairs) == 1 else tuple_(*(value for _, value in pairs))
    return left > right if forward else left < right


# Page statements of queries built once per process: (id of the query, shape) -> (the query,
# the statement, whether it selects an entity); the query is kept beside it so its id is never
# another's. The lists' builders make a few dozen; a caller passing `params` with a query built
# per call would only refill it (emptied past MAX_BUILT). Bind parameter names `seek_key_N` and
# `seek_offset` are taken.
_BUILT: dict[tuple, tuple[Any, Any, bool]] = {}
MAX_BUILT = 1_000


def _statement(query, keys, shape: tuple, descending: bool, per_page: int,
               keep: bool) -> tuple[Any, bool]:
    """The page statement of `query` for `shape` ("offset", or "after"/"before" with the
    cursor's NULL keys) and whether it selects a mapped entity (`_rows`), built once per
    process when `keep`."""
    found = _BUILT.get((id(query), shape, descending, per_page)) if keep else None
    if found is not None and found[0] is query:
        return found[1], found[2]
    terms = _sql_keys(keys)
    order = [k.desc() for k in terms] if descending else terms
    reverse = [k.asc() for k in terms] if descending else [k.desc() for k in terms]
    how = shape[0]
    if how == "before":
        statement = query.where(_beyond(keys, shape[1], descending)).order_by(*reverse)
    elif how == "after":
        statement = query.where(_beyond(keys, shape[1], not descending)).order_by(*order)
    else:
        statement = query.order_by(*order).offset(
            bindparam("seek_offset", type_=Integer, literal_execute=True))
    statement = statement.limit(literal_column(str(int(per_page) + 1), Integer))
    entities = _selects_entities(statement)
    if keep:
        if len(_BUILT) >= MAX_BUILT:
            _BUILT.clear()
        _BUILT[(id(query), shape, descending, per_page)] = (query, statement, entities)
    return statement, entities


def _rows(statement, values, entities: bool):
    """The rows of a select of columns, through the session's connection (Core): the ORM's
    execution path added about a tenth of a staff list's Python and loads nothing for
    columns; fetched at once (iterating fetched them one call a row). A select with an
    entity in it (`entities`) goes through the session, which loads it."""
    if entities:
        return db.session.execute(statement, values)
    return db.session.connection().execute(statement, values).all()


def _selects_entities(statement) -> bool:
    """Whether `statement` selects a mapped entity (worked out with its statement, once a
    kept one)."""
    inspected = (inspect(d["expr"], raiseerr=False) for d in statement.column_descriptions)
    return any(getattr(found, "is_mapper", False) or getattr(found, "is_aliased_class", False)
               for found in inspected)


def seek_page(query, keys, page: int | None = None, *, after: str | None = None,
              before: str | None = None, descending: bool = False,
              per_page: int | None = None, scalars: bool = True,
              params: dict | None = None) -> Page:
    """One page of `query` in the order of `keys` (mapped columns of the listed entity, all
    ascending or all `descending`, the last one unique, each NOT NULL in every row the query
    returns unless given as `NullsLast(column)`; an index should serve the order), in one
    statement whatever the page.

    `after` (the next-page link's cursor) starts after that key; `before` (the previous-page
    link's) ends before it; neither: the page number skips rows (OFFSET, a bookmark or an
    edited link). `page` is otherwise only the number shown. A malformed cursor is ignored
    (the page number, else the first page). One extra row tells whether more follow.

    `params` (the values of the query's own bind parameters, {} when it has none): the query
    is built once per process and always comes with the same `keys`, so its page statements
    are kept (see the module's notes); None: they are built for this call only.

    `scalars=False`: the page's rows as rows, not the first column's values (a select of
    columns is read through Core, `_rows`)."""
    page, per_page = clamp_page(page), per_page or PER_PAGE
    backwards = decode_cursor(before, keys)
    forwards = None if backwards else decode_cursor(after, keys)
    keep, values = params is not None, dict(params or {})
    cursor = backwards if backwards is not None else forwards
    if cursor is not None:
        shape = ("before" if backwards is not None else "after", _nulls(keys, cursor))
        values.update(_cursor_params(keys, cursor))
    else:
        shape = ("offset",)
        values["seek_offset"] = (page - 1) * per_page
    statement, entities = _statement(query, keys, shape, descending, per_page, keep)
    rows = list(db.session.scalars(statement, values) if scalars
                else _rows(statement, values, entities))
    if backwards is not None:
        more_before = len(rows) > per_page
        rows = rows[:per_page][::-1]
        page, has_next = (max(2, page) if more_before else 1), True
    else:
        page = max(2, page) if forwards is not None else page
        has_next = len(rows) > per_page
        rows = rows[:per_page]
    last = _key_values(rows[-1], keys) if rows and has_next else None
    first = _key_values(rows[0], keys) if rows and page > 1 else None
    return Page(rows, page, has_next, encode_cursor(last) if last is not None else None,
                encode_cursor(first) if first is not None else None)
