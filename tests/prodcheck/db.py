"""Plain SQL on the check's database: what the processes committed, read from outside them."""
from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from tests.prodcheck.stack import database_url


def rows(sql: str, *params, url: str | None = None) -> list[dict]:
    with psycopg.connect(url or database_url(), autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(sql: str, *params, url: str | None = None):
    found = rows(sql, *params, url=url)
    return next(iter(found[0].values())) if found else None


def scalar_row(sql: str, *params, url: str | None = None) -> tuple:
    """The first row's values, in order (AssertionError when there is none)."""
    found = rows(sql, *params, url=url)
    if not found:
        raise AssertionError(f"no row for: {sql}")
    return tuple(found[0].values())
