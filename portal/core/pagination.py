"""Page numbers from query strings, and one page of a query: whatever a link or a hand-edited
URL says, a list asks the database for a page it can express (a number beyond 64 bits made
SQLite raise, so a 500), and every staff list shows PER_PAGE rows at a time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.extensions import db

# Far beyond any list's length, and small enough that the row offset fits every database.
MAX_PAGE = 100_000
PER_PAGE = 50


def clamp_page(page: int | None) -> int:
    """`page` within 1..MAX_PAGE (None or below 1: the first page)."""
    return min(max(1, page or 1), MAX_PAGE)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def fetch_page(query, page: int | None, per_page: int | None = None, *,
               scalars: bool = True) -> Page:
    """One page of an ordered `query` in one statement: the query's order must end in a
    unique column (an id) and be served by an index, so a page costs the same on page 1 as
    on page 100 short of the offset. One extra row tells whether a next page exists."""
    page, per_page = clamp_page(page), per_page or PER_PAGE
    query = query.offset((page - 1) * per_page).limit(per_page + 1)
    rows = list(db.session.scalars(query) if scalars else db.session.execute(query))
    return Page(rows[:per_page], page, len(rows) > per_page)
