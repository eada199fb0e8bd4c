"""Template filters for money and dates, always through Babel for the reader's locale."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask_babel import format_date, format_datetime, get_locale, get_timezone

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


def local_time(value: datetime | None, tz=None) -> str:
    """A moment as the reader says it: the date, the time to the minute and the name of the
    zone ("December 5, 2026, 8:15 PM Eastern Standard Time", "2026年12月6日 09:15
    中国标准时间"). `tz` (a tzinfo or an IANA name, e.g. the cardholder's on a staff page)
    defaults to the request's zone (a cardholder's own; UTC on staff pages)."""
    if value is None:
        return ""
    locale = get_locale()
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or get_timezone())
    moment = as_aware(value).astimezone(zone)
    day = babel_dates.format_date(moment.date(), "long", locale=locale)
    time = (babel_dates.format_time(moment, "short", tzinfo=zone, locale=locale) + " "
            + babel_dates.format_time(moment, "zzzz", tzinfo=zone, locale=locale))
    pattern = str(babel_dates.get_datetime_format("long", locale=locale)).replace("'", "")
    return pattern.replace("{0}", time).replace("{1}", day)


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["money"] = money
