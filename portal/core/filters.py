"""Template filters for money and dates, always through Babel for the reader's locale."""
from datetime import date, datetime

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


def register_filters(app):
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["money"] = money
