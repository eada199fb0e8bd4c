""""Now" for contact decisions: the portal's clock (`portal.timeutil`), as UTC."""
from __future__ import annotations

from datetime import datetime, timezone

from portal.timeutil import utcnow


def utc(moment: datetime | str) -> datetime:
    """An aware UTC datetime from an aware datetime or ISO string (naive means UTC): the
    database compares stored moments as UTC wall times on SQLite."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def now() -> datetime:
    """An aware UTC datetime: the portal's "now"."""
    return utcnow()
