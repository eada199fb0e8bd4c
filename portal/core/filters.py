"""Template filters for money and dates, always through Babel for the reader's locale."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import get_datetime_format, get_time_format
from flask_babel import format_date, format_datetime, format_time, get_locale

from portal.domain.money import format_money
from portal.timeutil import as_aware


def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency, str(get_locale()))


def long_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    return format_date(value, "long")


def date_time(value: datetime | None, zone: str | None = None) -> str:
    """A moment in the reader's time zone (staff: UTC), or in `zone` when given (an IANA name,
    e.g. the cardholder's), in the reader's locale's order, with the zone named ("Nov 28,
    2026, 1:00 AM UTC", "2026年11月28日 01:00 UTC"): a time read without its zone is a guess."""
    if value is None:
        return ""
    locale = get_locale()
    moment = as_aware(value)
    rebase = zone is None
    if zone is not None:
        moment = moment.astimezone(ZoneInfo(zone))
    clock = format_time(moment, get_time_format("short", locale).pattern + " z", rebase=rebase)
    return (get_datetime_format("medium", locale)
            .replace("{1}", format_date(moment, "medium", rebase=rebase)).replace("{0}", clock))


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["date_time"] = date_time
    app.jinja_env.globals["money"] = money
