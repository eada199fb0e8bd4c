"""Bar charts drawn on the server as SVG: no JavaScript, nothing for the CSP to allow (colours
are SVG presentation attributes, not inline styles).

A chart is data: categories (dates, collectors' names) and any number of series (figures),
each a label and one value per category. Callers pass every text already translated and a
`number` function that formats a value for the reader's locale, so this module knows no Flask
and no language. To add a figure to a chart, add a series (`BarChart.add`); the axis, the
legend and the table alternative follow. Templates draw a chart with the `chart` macro
(templates/macros/charts.html): the SVG (role="img", titled and described) and, for screen
readers, a table of the same figures.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

from markupsafe import Markup, escape

# Colours with at least 3:1 contrast against white (WCAG non-text contrast), told apart by
# people with the common colour-vision deficiencies; stacked segments are also separated
# by a white line and named in the legend and the table.
PALETTE = ("#1f5fa8", "#b45309", "#b3261e", "#1b7a4a", "#6b4fa0", "#4b5563")
WIDTH = 720
FONT = 13  # px, in the SVG's own units
Number = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: tuple[float, ...]
    colour: str


@dataclass
class BarChart:
    key: str                     # unique on the page: element ids derive from it
    title: str
    description: str
    category_heading: str        # heading of the table's first column
    categories: tuple[str, ...]
    horizontal: bool = False     # categories down the side (names) or along the bottom (dates)
    series: list[Series] = field(default_factory=list)

    def add(self, key: str, label: str, values: Sequence[float], colour: str | None = None):
        """Add a figure: one non-negative value per category, in the categories' order."""
        values = tuple(values)
        if len(values) != len(self.categories):
            raise ValueError(f"{key}: {len(values)} values for {len(self.categories)} categories")
        if any(v < 0 for v in values):
            raise ValueError(f"{key}: bars are counts or amounts, never negative")
        self.series.append(Series(key, label, values,
                                  colour or PALETTE[len(self.series) % len(PALETTE)]))
        return self

    def totals(self) -> list[float]:
        return [sum(s.values[i] for s in self.series) for i in range(len(self.categories))]

    @property
    def empty(self) -> bool:
        return not any(self.totals())

    def rows(self) -> list[tuple[str, list[float]]]:
        """The table alternative: one row per category, one value per series."""
        return [(name, [s.values[i] for s in self.series])
                for i, name in enumerate(self.categories)]


def nice_ticks(largest: float, count: int = 5) -> list[float]:
    """Axis ticks from 0 to at least `largest`, at a step of 1, 2 or 5 times a power of ten
    (whole numbers only: counts and minor units), about `count` of them."""
    if largest <= 0:
        return [0, 1]
    rough = largest / count
    power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    top = math.ceil(largest / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def text_width(text: str, size: float = FONT) -> float:
    """An estimate of `text`'s width: wide (CJK) characters are about one em, others 0.6."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


def _fit(text: str, room: float) -> str:
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def _svg_open(chart: BarChart, height: float) -> list[str]:
    k = escape(chart.key)
    return [f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
            f'aria-labelledby="{k}-title {k}-desc" xmlns="http://www.w3.org/2000/svg" '
            f'font-size="{FONT}">',
            f'<title id="{k}-title">{escape(chart.title)}</title>',
            f'<desc id="{k}-desc">{escape(chart.description)}</desc>']


def render_svg(chart: BarChart, number: Number = str) -> Markup:
    """The chart as an SVG element, stacked bars with a value axis; an empty chart still has
    its title and description and says nothing more than its axis at zero."""
    ticks = nice_ticks(max(chart.totals(), default=0))
    labels = [number(t) for t in ticks]
    return Markup("".join(_horizontal(chart, ticks, labels, number) if chart.horizontal
                          else _vertical(chart, ticks, labels, number)))


def _vertical(chart, ticks, labels, number) -> list[str]:
    height, top, bottom = 300, 12, 44
    left = max(text_width(t) for t in labels) + 10
    widest = max((text_width(c) for c in chart.categories), default=0)
    # room on the right for half the last category's label, which is centred on its bar
    right = max(8.0, widest / 2 - 10)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    scale = plot_h / ticks[-1]
    out = _svg_open(chart, height)
    for value, label in zip(ticks, labels):
        y = top + plot_h - value * scale
        out.append(f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#d0d5dd"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" '
                   f'fill="#1f2937">{escape(label)}</text>')
    n = max(len(chart.categories), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.7, 48), 1)
    every = max(1, math.ceil((widest + 8) / slot))
    for i, name in enumerate(chart.categories):
        x = left + i * slot + (slot - bar) / 2
        base = top + plot_h
        for s in chart.series:
            h = s.values[i] * scale
            if h > 0:
                base -= h
                out.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                           f'fill="{s.colour}" stroke="#fff"><title>{escape(name)}: '
                           f'{escape(s.label)} {escape(number(s.values[i]))}</title></rect>')
        if i % every == 0:
            out.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 18}" '
                       f'text-anchor="middle" fill="#1f2937">{escape(name)}</text>')
    out.append(f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{top + plot_h}" '
               f'y2="{top + plot_h}" stroke="#4b5563"/></svg>')
    return out


def _horizontal(chart, ticks, labels, number) -> list[str]:
    row, top, bottom = 30, 8, 28
    left = min(max((text_width(c) for c in chart.categories), default=0) + 12, WIDTH * 0.35)
    right = text_width(labels[-1]) / 2 + 8
    height = top + row * max(len(chart.categories), 1) + bottom
    plot_w = WIDTH - left - right
    scale = plot_w / ticks[-1]
    out = _svg_open(chart, height)
    axis_y = height - bottom
    for value, label in zip(ticks, labels):
        x = left + value * scale
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{axis_y}" stroke="#d0d5dd"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" '
                   f'fill="#1f2937">{escape(label)}</text>')
    for i, name in enumerate(chart.categories):
        y = top + i * row
        out.append(f'<text x="{left - 8:.1f}" y="{y + row / 2 + 4:.1f}" text-anchor="end" '
                   f'fill="#1f2937">{escape(_fit(name, left - 12))}</text>')
        start = left
        for s in chart.series:
            w = s.values[i] * scale
            if w > 0:
                out.append(f'<rect x="{start:.1f}" y="{y + 6}" width="{w:.1f}" height="{row - 12}" '
                           f'fill="{s.colour}" stroke="#fff"><title>{escape(name)}: '
                           f'{escape(s.label)} {escape(number(s.values[i]))}</title></rect>')
                start += w
    out.append(f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{top}" y2="{axis_y}" '
               f'stroke="#4b5563"/></svg>')
    return out


def legend(chart: BarChart) -> Markup:
    """The series' names beside their colours, as an HTML list that wraps on a narrow screen
    (hidden from screen readers, which get the table)."""
    items = "".join(
        f'<li><svg width="14" height="14" aria-hidden="true" focusable="false">'
        f'<rect width="14" height="14" fill="{s.colour}"/></svg> {escape(s.label)}</li>'
        for s in chart.series)
    return Markup(f'<ul class="chart-legend" aria-hidden="true">{items}</ul>')
