"""Calendar rules: month arithmetic, local dates and days past due."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def add_months(d: date, months: int, *, anchor_day: int | None = None) -> date:
    """``d`` moved by ``months`` calendar months, on ``anchor_day`` clamped to the month's end.

    The anchor (default ``d.day``) is kept separately so a schedule that started on
    the 31st returns to the 31st after passing through February:
    31 Jan +1 -> 28/29 Feb, +2 -> 31 Mar.
    """
    day = d.day if anchor_day is None else anchor_day
    if not 1 <= day <= 31:
        raise ValueError(f"anchor_day must be 1..31, got {day}")
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day, last))


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of an aware datetime as seen in IANA zone ``tz``.

    Raises ValueError for naive datetimes (their day is ambiguous) or unknown zones.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("local_date needs a timezone-aware datetime")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    return moment.astimezone(zone).date()


def days_past_due(oldest_unpaid_due_date: date | None, as_of: date) -> int:
    """Days past due: 0 if nothing is unpaid or the due date is today or later.

    The due date itself is 0 DPD, the day after is 1. Both arguments must be
    plain dates; convert moments with ``local_date`` first.
    """
    # datetime is a date subclass; mixing them would raise or silently use UTC days.
    for value in (oldest_unpaid_due_date, as_of):
        if isinstance(value, datetime):
            raise TypeError("days_past_due takes dates, not datetimes; use local_date()")
    if oldest_unpaid_due_date is None:
        return 0
    return max(0, (as_of - oldest_unpaid_due_date).days)
