"""Template filters for money and dates, always through Babel for the reader's locale."""
from datetime import date, datetime

from babel.dates import format_interval
from flask_babel import format_date, format_datetime, get_locale

from portal.domain.money import format_money


def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency, str(get_locale()))


def long_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    return format_date(value, "long")


def date_span(first: date, last: date | None = None) -> str:
    """One day ("Nov 27, 2026"), or the days from `first` to `last` as the reader's locale
    writes a range ("Nov 1 – 27, 2026", "2026年11月1日至27日")."""
    if last is None or last == first:
        return format_date(first, "medium")
    return format_interval(first, last, "yMMMd", locale=get_locale())


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["money"] = money
    app.jinja_env.globals["date_span"] = date_span
