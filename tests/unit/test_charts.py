"""The chart builder (portal/core/charts.py): scales, empty data, one point, large numbers,
labels in English and Chinese, and the table alternative."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from babel.numbers import format_decimal

from portal.core.charts import BarChart, legend, nice_ticks, render_svg, text_width

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def _bars(svg: ET.Element):
    return svg.findall(f"{SVG}rect")


def _chart(categories=("1 Dec", "2 Dec", "3 Dec"), horizontal=False):
    return BarChart("c", "Plans kept and broken", "Plans by day.", "Day", tuple(categories),
                    horizontal=horizontal)


@pytest.mark.parametrize("largest, expected", [
    (0, [0, 1]),
    (1, [0, 1]),
    (3, [0, 1, 2, 3]),
    (7, [0, 2, 4, 6, 8]),
    (10, [0, 2, 4, 6, 8, 10]),
    (23, [0, 5, 10, 15, 20, 25]),
    (980, [0, 200, 400, 600, 800, 1000]),
    (1_234_567, [0, 500_000, 1_000_000, 1_500_000]),
])
def test_ticks_are_round_steps_from_zero_past_the_largest_value(largest, expected):
    assert nice_ticks(largest) == expected


def test_bars_stack_to_the_total_on_the_scale():
    chart = _chart().add("kept", "Kept", [2, 0, 5]).add("broken", "Broken", [1, 0, 5])
    svg = _parse(render_svg(chart))
    bars = _bars(svg)
    assert len(bars) == 4  # zero-height segments are not drawn
    heights = [float(b.get("height")) for b in bars]
    # 10 is the top tick: the 3 Dec column (5 + 5) fills the plot, 1 Dec (2 + 1) 30 % of it
    assert heights[2] + heights[3] == pytest.approx(3.333 * (heights[0] + heights[1]), rel=0.01)
    assert [t.text for t in svg.iter(f"{SVG}text")][:6] == ["0", "2", "4", "6", "8", "10"]


def test_the_svg_is_an_image_with_a_title_and_a_description():
    svg = _parse(render_svg(_chart().add("kept", "Kept", [1, 2, 3])))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Plans kept and broken"
    assert svg.find(f"{SVG}desc").text == "Plans by day."
    assert "style" not in str(render_svg(_chart().add("k", "K", [1, 2, 3])))  # CSP: no styles


def test_empty_data_draws_an_axis_and_no_bar():
    chart = _chart(categories=()).add("kept", "Kept", [])
    assert chart.empty and chart.rows() == []
    svg = _parse(render_svg(chart))
    assert _bars(svg) == [] and svg.find(f"{SVG}title") is not None
    zeros = _chart().add("kept", "Kept", [0, 0, 0])
    assert zeros.empty and _bars(_parse(render_svg(zeros))) == []


def test_one_point_fills_its_column():
    chart = _chart(categories=("Dec",)).add("kept", "Kept", [1])
    bars = _bars(_parse(render_svg(chart)))
    assert len(bars) == 1 and float(bars[0].get("height")) > 200


def test_large_numbers_are_formatted_and_get_room():
    chart = _chart().add("paid", "Collected", [1_234_567, 5, 0])
    svg = render_svg(chart, lambda n: format_decimal(n, locale="en"))
    assert "1,500,000" in svg
    first_bar = _bars(_parse(svg))[0]
    assert float(first_bar.get("x")) > text_width("1,500,000")  # the labels fit left of it


def test_chinese_labels_are_drawn_and_measured_wider():
    chart = _chart(categories=("陈收款", "李经理"), horizontal=True)
    chart.add("kept", "已遵守的计划", [3, 1]).add("broken", "已违约的计划", [1, 2])
    svg = str(render_svg(chart, lambda n: format_decimal(n, locale="zh_Hans_CN")))
    assert "陈收款" in svg and "已遵守的计划" in svg
    assert text_width("陈收款") > text_width("Chen")
    assert "已违约的计划" in str(legend(chart))


def test_long_names_are_shortened_on_the_chart_but_whole_in_the_table():
    name = "Maximiliana Alexandrovna Featherstonehaugh-Cholmondeley"
    chart = _chart(categories=(name, "Li"), horizontal=True).add("kept", "Kept", [1, 2])
    svg = str(render_svg(chart))
    assert "…" in svg
    assert chart.rows()[0] == (name, [1])


def test_labels_are_escaped():
    chart = _chart(categories=("<script>", "b", "c")).add("k", "A & B", [1, 2, 3])
    svg = str(render_svg(chart))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "A &amp; B" in svg


def test_a_figure_needs_one_value_per_category_and_no_negative():
    with pytest.raises(ValueError):
        _chart().add("kept", "Kept", [1, 2])
    with pytest.raises(ValueError):
        _chart().add("kept", "Kept", [1, -2, 3])


def test_figures_added_later_join_the_same_chart():
    chart = _chart().add("kept", "Kept", [1, 2, 3])
    chart.add("self_service", "Agreed online", [4, 0, 1])
    assert [s.key for s in chart.series] == ["kept", "self_service"]
    assert chart.rows()[0] == ("1 Dec", [1, 4])
    assert len(set(re.findall(r'fill="(#[0-9a-f]{6})"', str(legend(chart))))) == 2


def test_every_category_label_lies_inside_the_chart():
    days = tuple(f"11月{d}日" for d in range(1, 29))
    svg = _parse(render_svg(_chart(categories=days).add("kept", "已履行", [1] * 28)))
    labels = [t for t in svg.iter(f"{SVG}text") if t.text in days]
    assert labels and labels[0].text == "11月1日"
    for label in labels:
        half = text_width(label.text) / 2
        assert half <= float(label.get("x")) and float(label.get("x")) + half <= 720
    # labels are thinned so they do not overlap
    xs = [float(t.get("x")) for t in labels]
    assert min(b - a for a, b in zip(xs, xs[1:])) >= text_width("11月28日")
