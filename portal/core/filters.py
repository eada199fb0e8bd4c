"""Template filters for money, dates and charts, always through Babel for the reader's locale."""
from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_decimal, get_locale

from portal.core.charts import legend, render_svg
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
    app.jinja_env.globals["chart_svg"] = lambda chart: render_svg(chart, format_decimal)
    app.jinja_env.globals["chart_legend"] = legend
    app.jinja_env.globals["chart_number"] = format_decimal
