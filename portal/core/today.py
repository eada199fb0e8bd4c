"""What "today" is on staff pages.

Staff pages agree on one calendar day for everyone, the UTC day, so a list's balances come from
one query and two staff members looking at the same page see the same thing. A cardholder's
own day (their promises, plan due dates, DPD on their pages) is a different question, answered
by `portal.balances.services.today_for`.
"""
from __future__ import annotations

from datetime import date, datetime

from portal.domain.dates import local_date
from portal.timeutil import utcnow

STAFF_ZONE = "UTC"


def staff_today(now: datetime | None = None) -> date:
    """The staff pages' calendar day at `now` (default: the current moment)."""
    return local_date(now or utcnow(), STAFF_ZONE)
