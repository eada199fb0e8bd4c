"""Clock helpers: one place that says what "now" is, so tests and jobs can agree."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """An aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment
