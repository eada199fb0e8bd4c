""""Now" for contact decisions: the real clock, unless CONTACT_NOW pins it (tests, replays)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, has_app_context

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
    """An aware UTC datetime: `CONTACT_NOW` (datetime or ISO string) when set, else the clock."""
    pinned = current_app.config.get("CONTACT_NOW") if has_app_context() else None
    return utcnow() if pinned is None else utc(pinned)
