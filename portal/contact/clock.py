""""Now" for contact decisions: the portal's clock (`portal.timeutil`), as UTC."""
from __future__ import annotations

from datetime import datetime

from portal.timeutil import to_utc, utcnow


def utc(moment: datetime | str) -> datetime:
    """An aware UTC datetime from an aware datetime or ISO string (naive means UTC)."""
    return to_utc(moment)


def now() -> datetime:
    """An aware UTC datetime: the portal's "now"."""
    return utcnow()
