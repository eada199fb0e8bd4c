"""The reports page draws today's figures as charts (server-side SVG, each with a table
alternative): plans kept and broken over time, and each collector's plans and promises."""
from __future__ import annotations

import re
from datetime import date

from portal.collections.report_charts import bucket_starts, plans_over_time
from portal.collections.reports import Period
from tests.integration.test_collections_reports import NOV, world  # noqa: F401 (fixture)

PAGE = "/staff/collections/reports?date_from=2026-11-01&date_to=2026-11-30"


def _figure(html: str, key: str) -> str:
    match = re.search(rf'<figure class="chart-figure" aria-labelledby="{key}-caption">(.*?)'
                      r"</figure>", html, re.S)
    assert match, f"no chart {key} on the page"
    return match.group(1)


def _table_rows(figure_html: str) -> dict[str, list[str]]:
    rows = {}
    for name, cells in re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', figure_html):
        rows[name] = re.findall(r"<td>([^<]*)</td>", cells)
    return rows


def test_plans_over_time_counts_each_day_by_outcome_today(world):  # noqa: F811
    buckets = {b.start: (b.kept, b.behind, b.broken) for b in plans_over_time(NOV)}
    assert len(buckets) == 30  # every day, empty ones too
    assert {day: c for day, c in buckets.items() if any(c)} == {
        date(2026, 11, 3): (1, 0, 0), date(2026, 11, 6): (0, 1, 0),
        date(2026, 11, 15): (1, 0, 0), date(2026, 11, 16): (1, 0, 0),
        date(2026, 11, 21): (0, 0, 1)}


def test_long_periods_are_drawn_by_week_then_by_month():
    weeks = bucket_starts(Period(date(2026, 9, 1), date(2026, 11, 30)))
    assert weeks[0] == date(2026, 8, 31) and all(d.weekday() == 0 for d in weeks)
    months = bucket_starts(Period(date(2026, 1, 15), date(2026, 11, 30)))
    assert months == [date(2026, m, 1) for m in range(1, 12)]


def test_report_page_draws_the_charts_with_table_alternatives(world, client, login_as,  # noqa: F811
                                                              make_staff):
    login_as(client, make_staff("collections_manager"))
    html = client.get(PAGE).get_data(as_text=True)
    over_time = _figure(html, "chart-plans-over-time")
    assert '<svg class="chart"' in over_time and 'role="img"' in over_time
    assert '<desc id="chart-plans-over-time-desc">' in over_time
    rows = _table_rows(over_time)
    assert rows["Nov 21"] == ["0", "0", "1"] and rows["Nov 3"] == ["1", "0", "0"]

    plans = _table_rows(_figure(html, "chart-collector-plans"))
    assert plans == {"Ann": ["1", "1", "0"], "Bo": ["2", "0", "1"], "Cy": ["0", "0", "0"]}
    promises = _table_rows(_figure(html, "chart-collector-promises"))
    assert promises["Ann"] == ["1", "1", "1"]  # kept, not yet due, broken
    assert "<script" not in html.split("<main", 1)[1]  # drawn on the server, no script


def test_an_empty_period_says_there_is_nothing_to_draw(client, login_as, make_staff):
    login_as(client, make_staff("collections_manager"))
    html = client.get(PAGE).get_data(as_text=True)
    assert "Nothing to draw: there are no figures for the period." in _figure(
        html, "chart-plans-over-time")


def test_charts_read_in_chinese(world, client, login_as, make_staff):  # noqa: F811
    login_as(client, make_staff("collections_manager"))
    client.set_cookie("portal_locale", "zh_Hans")
    html = client.get(PAGE).get_data(as_text=True)
    over_time = _figure(html, "chart-plans-over-time")
    assert "计划的履行与违约情况" in over_time
    assert "11月21日" in over_time
