"""Contact rules of a policy profile, pure (no Flask, no SQLAlchemy).

The profile's `contact` section says when messages may reach a cardholder (an allowed window
of local wall-clock time, default 08:00-21:00; a window whose start is after its end runs
across midnight) and how many collection messages each channel may carry in a rolling
period. Times are always judged in the cardholder's own IANA time zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_START, DEFAULT_END = time(8, 0), time(21, 0)
DEFAULT_CAP = 7
DEFAULT_PERIOD_DAYS = 7
DEFAULT_DUE_SOON_DAYS = 3  # days before a plan instalment or a promise falls due: remind
MAX_DUE_SOON_DAYS = 30
CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Cap:
    max_messages: int
    period_days: int


@dataclass(frozen=True)
class ContactRules:
    start: time  # first allowed local time (inclusive)
    end: time  # end of the allowed window (exclusive)
    caps: dict[str, Cap]
    verified: bool
    rule: str
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS

    def cap(self, channel: str) -> Cap:
        return self.caps.get(channel) or Cap(DEFAULT_CAP, DEFAULT_PERIOD_DAYS)


def _time(value, default: time) -> time:
    if not value:
        return default
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"contact hours must be HH:MM, got {value!r}") from exc


def parse_contact(section: dict | None) -> ContactRules:
    """ContactRules from a profile's `contact` section; missing parts take the defaults
    (08:00-21:00, at most 7 collection messages per channel in 7 days)."""
    section = section or {}
    hours = section.get("hours") or {}
    caps = {}
    for channel, cap in (section.get("caps") or {}).items():
        caps[channel] = Cap(int(cap.get("max", DEFAULT_CAP)),
                            int(cap.get("period_days", DEFAULT_PERIOD_DAYS)))
    reminders = section.get("reminders") or {}
    days = reminders.get("due_soon_days", DEFAULT_DUE_SOON_DAYS) if isinstance(reminders, dict) \
        else DEFAULT_DUE_SOON_DAYS
    return ContactRules(start=_time(hours.get("start"), DEFAULT_START),
                        end=_time(hours.get("end"), DEFAULT_END), caps=caps,
                        verified=bool(section.get("verified", False)),
                        rule=str(section.get("rule", "")),
                        due_soon_days=days if _usable_days(days) else DEFAULT_DUE_SOON_DAYS)


def _usable_days(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) \
        and 0 <= value <= MAX_DUE_SOON_DAYS


def unusable_keys(section) -> list[str]:
    """Keys of a "contact" section the reminders cannot read ("" when it is not a table):
    publishing refuses such a version (registered in portal.wiring)."""
    if not isinstance(section, dict):
        return [""]
    reminders = section.get("reminders")
    if reminders is None:
        return []
    if not isinstance(reminders, dict):
        return ["reminders"]
    if "due_soon_days" in reminders and not _usable_days(reminders["due_soon_days"]):
        return ["reminders.due_soon_days"]
    return []


def zone(name: str | None) -> ZoneInfo:
    """The cardholder's zone; an unknown or empty name counts as UTC (logged by the caller)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_allowed(moment: datetime, tz: str | None, start: time, end: time) -> bool:
    """True when the aware `moment` falls in the allowed window in zone `tz`."""
    if moment.tzinfo is None:
        raise ValueError("is_allowed needs an aware datetime")
    local = moment.astimezone(zone(tz)).time().replace(tzinfo=None)
    if start == end:
        return True  # no quiet hours at all
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window runs across midnight


def next_allowed(moment: datetime, tz: str | None, start: time, end: time) -> datetime:
    """The earliest aware UTC moment at or after `moment` inside the allowed window.

    Local times are built with the zone's rules for that date, so a DST change between now
    and the next window start moves the UTC answer by the hour it should. A window start
    that falls in a DST gap (e.g. 02:30 on a spring-forward night) resolves to the first
    real local time after it.
    """
    if is_allowed(moment, tz, start, end):
        return moment.astimezone(timezone.utc)
    tzinfo = zone(tz)
    local = moment.astimezone(tzinfo)
    day = local.date()
    for offset in range(3):
        candidate = datetime.combine(day + timedelta(days=offset), start, tzinfo=tzinfo)
        # Normalise through UTC: a wall time inside a DST gap does not exist.
        candidate_utc = candidate.astimezone(timezone.utc)
        if candidate_utc >= moment:
            return candidate_utc
    raise AssertionError("unreachable: a window start occurs every day")
