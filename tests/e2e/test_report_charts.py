"""Browser test of the collections reports at 1280 px: the charts are drawn (no script) and
pass axe, and the collectors' figures fit the page with nothing scrolling sideways, in English
and in Chinese."""
from __future__ import annotations

import pytest

from portal.timeutil import utcnow
from tests.e2e.helpers import axe_check
from tests.e2e.test_collections import _staff_sign_in
from tests.integration.collections_helpers import at, hold, make_plan

desktop = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)

_SIDEWAYS_JS = """() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll('.table-wrap, figure, svg.chart')]
    .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > root.clientWidth + 1)
    .map(el => (el.id || el.className.baseVal || el.className) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return {page: root.scrollWidth - root.clientWidth, wide};
}"""


@desktop
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_reports_draw_charts_and_fit_1280_px(page, live_server, make_account, make_staff,
                                             locale):
    today = utcnow().date()
    manager = make_staff("collections_manager", name="Meg Manager")
    ann = make_staff("collector", name="Annabel Featherstonehaugh-Worthington")
    bo = make_staff("collector", name="陈博文")
    for n, (collector, status, missed) in enumerate([(ann, "active", False), (ann, "active", True),
                                                      (bo, "broken", False), (bo, "completed", False)]):
        account = make_account()
        hold(account, collector, at(today, 0))
        make_plan(account, status, started_on=today, created=at(today, 0), missed=missed,
                  total=123_456_789 + n)
    page.context.add_cookies([{"name": "portal_locale", "value": locale, "url": live_server}])
    _staff_sign_in(page, manager)
    page.goto("/staff/collections/reports")
    assert page.locator("figure.chart-figure").count() == 3
    assert page.locator("svg.chart[role=img]").count() == 2  # no promises: nothing to draw
    assert page.locator("figure .visually-hidden table").count() == 3
    assert page.locator("svg.chart rect").count() >= 4
    axe_check(page)
    found = page.evaluate(_SIDEWAYS_JS)
    assert found == {"page": 0, "wide": []}, found
    assert page.locator("main script").count() == 0
