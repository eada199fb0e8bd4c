"""Template filters for money, dates and charts, always through Babel for the reader's locale,
and times in the reader's own time zone (a cardholder's, from their profile)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel.dates import format_interval
from flask_babel import format_date, format_decimal, get_locale, get_timezone

from portal.core.charts import legend, render_svg
from portal.domain.money import format_money
from portal.timeutil import as_aware


def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency, str(get_locale()))


def long_date(value: date | datetime | None) -> str:
    """A day ("December 5, 2026"); a moment as `local_time` says it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value)
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


def date_span(first: date, last: date | None = None, width: str = "medium") -> str:
    """One day ("Nov 27, 2026"), or the days from `first` to `last` as the reader's locale
    writes a range ("Nov 1 – 27, 2026", "2026年11月1日至27日"); `width="long"` spells each
    day out ("November 1, 2026 – November 27, 2026")."""
    if last is None or last == first:
        return format_date(first, width)
    if width == "long":  # CLDR has no long day intervals: the locale's "{0} – {1}"
        pattern = get_locale().interval_formats.get(None) or "{0} – {1}"
        return pattern.replace("{0}", format_date(first, "long")).replace(
            "{1}", format_date(last, "long"))
    return format_interval(first, last, "yMMMd", locale=get_locale())


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["money"] = money
    app.jinja_env.globals["date_span"] = date_span
    app.jinja_env.globals["chart_svg"] = lambda chart: render_svg(chart, format_decimal)
    app.jinja_env.globals["chart_legend"] = legend
    app.jinja_env.globals["chart_number"] = format_decimal
