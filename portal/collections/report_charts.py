"""The charts on the collections reports page, built from the report's own figures.

Each chart lists its figures in a tuple of `Figure`s (a key, a translated label, how to read the
value from a row): to add a figure (the self-service figures, say), add a `Figure` to the
tuple; the bars, legend and table alternative follow (portal/core/charts.py).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from babel.dates import format_skeleton
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import select

from portal.collections.reports import CollectorKpi, Period, missed_plans, utc_day
from portal.collections.rules import BEHIND, BROKEN, KEPT, plan_outcome
from portal.core.charts import BarChart
from portal.extensions import db
from portal.plans.models import Plan

KEPT_COLOUR, BEHIND_COLOUR, BROKEN_COLOUR = "#1b7a4a", "#b45309", "#b3261e"


@dataclass(frozen=True)
class Figure:
    key: str
    label: object  # a lazy string, translated when the chart is built
    value: Callable[[object], float]
    colour: str | None = None


@dataclass
class Bucket:
    """Plans made in one stretch of days (a day, a week or a month), by outcome today."""
    start: date
    kept: int = 0
    behind: int = 0
    broken: int = 0


OVER_TIME = (
    Figure(KEPT, _l("Kept"), lambda b: b.kept, KEPT_COLOUR),
    Figure(BEHIND, _l("Behind"), lambda b: b.behind, BEHIND_COLOUR),
    Figure(BROKEN, _l("Broken"), lambda b: b.broken, BROKEN_COLOUR),
)
COLLECTOR_PLANS = (
    Figure("plans_kept", _l("Agreed plans kept"), lambda r: r.plans_kept, KEPT_COLOUR),
    Figure("plans_behind", _l("Agreed plans behind"), lambda r: r.plans_behind, BEHIND_COLOUR),
    Figure("plans_broken", _l("Agreed plans broken"), lambda r: r.plans_broken, BROKEN_COLOUR),
)
COLLECTOR_PROMISES = (
    Figure("promises_kept", _l("Promises kept"), lambda r: r.promises_kept, KEPT_COLOUR),
    Figure("promises_pending", _l("Promises not yet due"), lambda r: r.promises_pending,
           "#1f5fa8"),
    Figure("promises_broken", _l("Promises broken"), lambda r: r.promises_broken, BROKEN_COLOUR),
)


def _step(period: Period) -> str:
    days = (period.end - period.start).days + 1
    return "day" if days <= 31 else "week" if days <= 26 * 7 else "month"


def _bucket_start(day: date, step: str) -> date:
    if step == "day":
        return day
    if step == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_starts(period: Period) -> list[date]:
    """Every bucket of the period, empty ones included, so the time axis has no gaps."""
    step, starts, day = _step(period), [], period.start
    while day <= period.end:
        start = _bucket_start(day, step)
        if not starts or starts[-1] != start:
            starts.append(start)
        day += timedelta(days=1)
    return starts


def plans_over_time(period: Period) -> list[Bucket]:
    """Plans made in the period (as in the plans report: by their UTC day), in buckets of a
    day, a week or a month by the period's length, each counted by its outcome today."""
    missed = missed_plans()
    counts: Counter = Counter()
    step = _step(period)
    for day, status, clean, n in db.session.execute(
            select(utc_day(Plan.created_at), Plan.status, missed.c.plan_id.is_(None),
                   db.func.count())
            .outerjoin(missed, missed.c.plan_id == Plan.id)
            .where(Plan.created_at >= period.start_at, Plan.created_at < period.end_before)
            .group_by(utc_day(Plan.created_at), Plan.status, missed.c.plan_id.is_(None))):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        outcome = plan_outcome(str(status), not clean)
        if outcome in (KEPT, BEHIND, BROKEN):
            counts[_bucket_start(day, step), outcome] += int(n)
    return [Bucket(start, counts[start, KEPT], counts[start, BEHIND], counts[start, BROKEN])
            for start in bucket_starts(period)]


def _chart(key, title, description, heading, categories, rows, figures, horizontal=False):
    chart = BarChart(key, title, description, heading, tuple(categories), horizontal=horizontal)
    for figure in figures:
        chart.add(figure.key, str(figure.label), [figure.value(row) for row in rows],
                  figure.colour)
    return chart


def time_chart(period: Period, buckets: list[Bucket]) -> BarChart:
    step, locale = _step(period), get_locale()
    if step == "month":
        names = [format_skeleton("yMMM", b.start, locale=locale) for b in buckets]
        heading = _("Month")
    else:
        names = [format_skeleton("MMMd", b.start, locale=locale) for b in buckets]
        heading = _("Day") if step == "day" else _("Week from")
    return _chart("chart-plans-over-time", _("Plans kept and broken over time"),
                  _("Plans made in the period, by the day, week or month they were made, "
                    "stacked by how they stand today: kept, behind or broken. The same "
                    "figures follow in a table."), heading, names, buckets, OVER_TIME)


def collector_charts(collectors: list[CollectorKpi]) -> list[BarChart]:
    names = [row.name for row in collectors]
    return [
        _chart("chart-collector-plans", _("Agreed plans by collector"),
               _("For each collector, the plans agreed in the period on accounts they held, "
                 "stacked by how they stand today. The same figures follow in a table."),
               _("Collector"), names, collectors, COLLECTOR_PLANS, horizontal=True),
        _chart("chart-collector-promises", _("Promises to pay by collector"),
               _("For each collector, the promises to pay they logged in the period: kept, "
                 "not yet due and broken. The same figures follow in a table."),
               _("Collector"), names, collectors, COLLECTOR_PROMISES, horizontal=True),
    ]
