"""What "today" is on staff pages.

Staff pages agree on one calendar day for everyone, the UTC day, so a list's balances come from
one query and two staff members looking at the same page see the same thing. A cardholder's
own day (their promises, plan due dates, DPD on their pages) is a different question, answered
by `portal.balances.services.today_for`.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from portal.domain.dates import local_date
from portal.timeutil import as_aware, utcnow

STAFF_ZONE = "UTC"


def staff_today(now: datetime | None = None) -> date:
    """The staff pages' calendar day at `now` (default: the current moment)."""
    return local_date(now or utcnow(), STAFF_ZONE)


def staff_wall_clock(moment: datetime | None = None) -> datetime:
    """`moment` (default: now) as the staff pages' wall-clock time to the minute, naive: what
    a date-and-time field on a staff page starts at."""
    local = as_aware(moment or utcnow()).astimezone(ZoneInfo(STAFF_ZONE))
    return local.replace(tzinfo=None, second=0, microsecond=0)


def from_staff_wall_clock(typed: datetime) -> datetime:
    """A naive time typed on a staff page (in STAFF_ZONE) as an aware UTC moment."""
    return typed.replace(tzinfo=ZoneInfo(STAFF_ZONE)).astimezone(timezone.utc)
