"""Template filters for money, dates and charts, always through Babel for the reader's locale,
and times in the reader's own time zone (a cardholder's, from their profile)."""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel.dates import format_interval
from flask import has_request_context
from flask_babel import format_date, format_decimal, get_locale, get_timezone

from portal.core.charts import legend, render_svg
from portal.core.urls import id_link
from portal.domain.money import format_money, to_major
from portal.timeutil import as_aware


def money(amount_minor: int, currency: str) -> str:
    if not has_request_context():
        return format_money(amount_minor, currency, str(get_locale()))
    return formatter().money(amount_minor, currency)


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
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or get_timezone())
    return formatter(zone).moment(value)


class Formatter:
    """Babel formatting for one locale and zone, with what Babel would look up or build on
    every call (the locale's patterns, a day's name, a zone's name) kept for the process: a
    list of 50 rows formats 50 moments without 50 times the set-up, and the next request
    finds them set up."""

    KEPT = 4096  # texts of each kind kept (amounts, days) before starting afresh

    def __init__(self, locale, zone):
        self.locale, self.zone = locale, zone
        self._pattern = str(babel_dates.get_datetime_format("long", locale=locale)).replace("'", "")
        self._days: dict[date, str] = {}
        self._zone_names: dict[timedelta | None, str] = {}
        self._amounts: dict[tuple[int, str], str] = {}
        self._deltas: dict[tuple[str, int, bool], str] = {}
        self._currency_pattern = locale.currency_formats["standard"] if locale else None
        # A moment's time of day by (hour, minute), when the locale's short time pattern
        # shows nothing else (en "h:mm a", zh_Hans "HH:mm"): a page of 50 deadlines
        # formats each minute once, not 50 times. None: formatted every time.
        self._times: dict[tuple[int, int], str] | None = (
            {} if locale and _by_minute(babel_dates.get_time_format("short", locale=locale))
            else None)

    def money(self, amount_minor: int, currency: str) -> str:
        """As `domain.money.format_money` says it (the same Babel pattern, applied here
        without parsing the locale and looking the pattern up again for every amount)."""
        key = (amount_minor, currency)
        text = self._amounts.get(key)
        if text is None:
            if self._currency_pattern is None:
                return format_money(amount_minor, currency, str(self.locale))
            if len(self._amounts) >= self.KEPT:
                self._amounts.clear()
            text = self._amounts[key] = self._currency_pattern.apply(
                to_major(amount_minor, currency), self.locale, currency=currency,
                currency_digits=True)
        return text

    def day(self, value: date) -> str:
        text = self._days.get(value)
        if text is None:
            if len(self._days) >= self.KEPT:
                self._days.clear()
            text = self._days[value] = babel_dates.format_date(value, "long", locale=self.locale)
        return text

    def moment(self, value: datetime) -> str:
        moment = as_aware(value).astimezone(self.zone)
        offset = moment.utcoffset()
        zone_name = self._zone_names.get(offset)
        if zone_name is None:
            zone_name = self._zone_names[offset] = babel_dates.format_time(
                moment, "zzzz", tzinfo=self.zone, locale=self.locale)
        key = (moment.hour, moment.minute)
        time = self._times.get(key) if self._times is not None else None
        if time is None:
            time = babel_dates.format_time(moment, "short", tzinfo=self.zone, locale=self.locale)
            if self._times is not None:
                self._times[key] = time  # at most 1,440 of them
        return self._pattern.replace("{0}", f"{time} {zone_name}").replace(
            "{1}", self.day(moment.date()))

    def delta(self, value: timedelta) -> str:
        """A time left or past ("in 3 days", "2 hours ago"), as Babel's `format_timedelta`
        says it; kept by what that text depends on (`delta_key`), so a page of 50
        deadlines "in 3 hours" asks Babel once."""
        key = delta_key(value)
        text = self._deltas.get(key)
        if text is None:
            if len(self._deltas) >= self.KEPT:
                self._deltas.clear()
            text = self._deltas[key] = babel_dates.format_timedelta(
                value, add_direction=True, threshold=DELTA_THRESHOLD, locale=self.locale)
        return text


DELTA_THRESHOLD = 1.1  # "in 1 hour" up to 66 minutes, then "in 2 hours" (Babel's threshold)


def delta_key(value: timedelta) -> tuple[str, int, bool]:
    """What `format_timedelta(threshold=DELTA_THRESHOLD, add_direction=True)` writes for
    `value` depends on, as Babel works it out (babel.dates, granularity "second"): the unit
    it picks, the count rounded in that unit, and whether it lies ahead (a list row showing
    a time left is kept under this, `disputes.staff_routes`)."""
    seconds = int(value.days * 86400 + value.seconds)
    for unit, per_unit in babel_dates.TIMEDELTA_UNITS:
        count = abs(seconds) / per_unit
        if count >= DELTA_THRESHOLD or unit == "second":
            if unit == "second" and count > 0:
                count = max(1, count)
            return unit, int(round(count)), seconds >= 0
    raise AssertionError("Babel's units end in seconds")


# Fields of a time pattern that an hour and a minute decide (hours, minutes, AM/PM and the
# day periods); quoted text is literal.
_MINUTE_FIELDS = frozenset("hHkKmabB")


def _by_minute(pattern) -> bool:
    """Whether `pattern` (a Babel time pattern) writes nothing but the hour and minute."""
    fields = re.sub(r"'[^']*'", "", pattern.pattern)
    return {c for c in fields if c.isalpha()} <= _MINUTE_FIELDS


# Formatters by (locale, zone), kept for the process (issue 15: built once, not per request).
# What they keep is a pure function of the locale, the zone and the value formatted, so it
# cannot go stale; each keeps at most `Formatter.KEPT` texts of a kind.
_FORMATTERS: dict[tuple[str, str], Formatter] = {}


def formatter(zone=None) -> Formatter:
    """The formatter for the request's locale and `zone` (default: the request's zone), built
    once per process."""
    zone = zone or get_timezone()
    locale = get_locale()
    if not has_request_context():
        return Formatter(locale, zone)
    key = (str(locale), str(zone))
    found = _FORMATTERS.get(key)
    if found is None:
        if len(_FORMATTERS) > 256:  # every zone in every language would still fit twice
            _FORMATTERS.clear()
        found = _FORMATTERS[key] = Formatter(locale, zone)
    return found


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
    app.jinja_env.globals["formatter"] = formatter
    app.jinja_env.globals["id_link"] = id_link
    app.jinja_env.globals["date_span"] = date_span
    app.jinja_env.globals["chart_svg"] = lambda chart: render_svg(chart, format_decimal)
    app.jinja_env.globals["chart_legend"] = legend
    app.jinja_env.globals["chart_number"] = format_decimal
