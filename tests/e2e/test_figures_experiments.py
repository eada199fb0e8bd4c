"""Browser tests of the managers' figures and the champion/challenger pages, at phone and
desktop sizes, in English and Chinese: risk defines an experiment with the form and reads its
report, a manager reads the figures and the report; every page checked with axe, for words
broken mid-word and for sideways scrolling."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.timeutil import utcnow
from tests.e2e.helpers import check_page, word_break_problems
from tests.e2e.test_collections import _staff_sign_in
from tests.integration.collections_helpers import at, hold, make_plan

LABELS = {
    "en": {"create": "Create the experiment", "figures": "Collections figures",
           "outcomes": "Outcomes"},
    "zh_Hans": {"create": "创建实验", "figures": "催收指标", "outcomes": "结果"},
}


def _world(make_account, make_staff):
    today = utcnow().date()
    collector = make_staff("collector", name="Annabel Featherstonehaugh-Worthington")
    for n, status in enumerate(("active", "broken", "completed")):
        account = make_account(oldest_unpaid_due_date=today - timedelta(days=40 + n))
        hold(account, collector, at(today - timedelta(days=2), 0))
        make_plan(account, status, started_on=today, created=at(today, 0), total=123_456_789)
    return (make_staff("risk", name="Rafael Riskmanagement"),
            make_staff("collections_manager", name="陈博文"))


def _checked(page, problems):
    check_page(page)
    problems += word_break_problems(page, (page.viewport_size["width"],))


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_risk_defines_an_experiment_and_a_manager_reads_figures_and_report(
        page, browser, live_server, make_account, make_staff, viewport, locale):
    words = LABELS[locale]
    risk, manager = _world(make_account, make_staff)
    page.context.add_cookies([{"name": "portal_locale", "value": locale, "url": live_server}])
    problems: list[str] = []
    _staff_sign_in(page, risk)
    page.goto("/staff/risk/experiments")
    _checked(page, problems)
    page.goto("/staff/risk/experiments/new")
    _checked(page, problems)
    page.fill("#name", "Four payments first")
    page.select_option("#kind", "offers")
    page.fill("#ends_on", (utcnow().date() + timedelta(days=45)).isoformat())
    page.fill("#a_name", "Champion")
    page.fill("#b_name", "Four payments")
    page.fill("#a_counts", "3, 6, 12")
    page.fill("#a_first_due_days", "7")
    page.fill("#b_counts", "4")
    page.fill("#b_first_due_days", "14")
    with page.expect_navigation():
        page.get_by_role("button", name=words["create"]).click()
    assert page.locator("h1").inner_text() == "Four payments first"
    assert page.get_by_role("heading", name=words["outcomes"]).count() == 1
    _checked(page, problems)
    report = page.url
    page.goto("/staff/collections/figures")
    _checked(page, problems)

    manager_context = browser.new_context(base_url=live_server, viewport=page.viewport_size)
    manager_context.add_cookies([{"name": "portal_locale", "value": locale, "url": live_server}])
    desk = manager_context.new_page()
    _staff_sign_in(desk, manager)
    desk.goto("/staff/collections/figures")
    assert desk.locator("h1").inner_text() == words["figures"]
    _checked(desk, problems)
    desk.goto(report)
    assert desk.locator("form[action$='/stop']").count() == 0  # managers read, risk stops
    _checked(desk, problems)
    manager_context.close()
    assert not problems, "\n".join(problems)
