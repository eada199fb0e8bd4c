"""Page numbers from query strings: whatever a link or a hand-edited URL says, a list asks the
database for a page it can express (a number beyond 64 bits made SQLite raise, so a 500)."""
from __future__ import annotations

# Far beyond any list's length, and small enough that the row offset fits every database.
MAX_PAGE = 100_000


def clamp_page(page: int | None) -> int:
    """`page` within 1..MAX_PAGE (None or below 1: the first page)."""
    return min(max(1, page or 1), MAX_PAGE)
