"""No text breaks inside a word on any staff page, at 1280 px (staff work at desks) and at
390 px, in English and Chinese (issue 13: staff tables on a narrow screen broke words mid-word,
because staff pages were left with `overflow-wrap: anywhere`).

Each role signs in once per language and walks every staff page it reaches from its home
(following links, one page of each kind: /staff/collections/accounts/7 stands for every
account's call page), over a world where each page has something to show. On each page:
words are measured with the shared measurement (tests/e2e/helpers.py), axe runs at 390 px
(a wide table scrolls inside a labelled, focusable region there), and nothing scrolls the page
sideways at 390 px.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.dispute_helpers import join, raise_dispute
from tests.e2e.helpers import (assert_no_horizontal_scroll, axe_check, path_of,
                               word_break_problems)
from tests.e2e.test_collections import _staff_sign_in
from tests.integration.collections_helpers import at, hold, make_plan
from tests.integration.journal_helpers import pay
from tests.integration.legal_helpers import late_account, refer

WIDTHS = (1280, 390)
NARROW = 390
# Not pages to read: signing out, files, and the one-time set-up links.
_NOT_A_PAGE = re.compile(r"/logout|/login|/setup/|/files/|/download|\.(csv|pdf|json|png|jpe?g)$"
                         r"|[?&]format=")
# What each role must reach from its home (patterns of paths, digits as N): the walk is
# checked against this list so that a page dropped from the links is noticed.
MUST_REACH = {
    "collector": {"/staff/collections/my-accounts", "/staff/collections/accounts/N",
                  "/staff/care/accounts/N"},
    "collections_manager": {"/staff/manager", "/staff/collections/assign",
                            "/staff/collections/reports", "/staff/plans", "/staff/plans/N",
                            "/staff/collections/figures", "/staff/risk/experiments",
                            "/staff/payments", "/staff/payments/N", "/staff/care/accounts/N"},
    "customer_service": {"/staff/service", "/staff/disputes",
                         "/staff/disputes/N", "/staff/care/accounts/N"},
    "legal": {"/staff/legal", "/staff/legal/accounts/N"},
    "risk": {"/staff/risk", "/staff/risk/policies", "/staff/risk/plan-limits",
             "/staff/collections/figures", "/staff/risk/experiments",
             "/staff/risk/experiments/new",
             # a version page (promises, care, servicing shown) and the editor's form
             "/staff/risk/policies/cn/vN", "/staff/risk/policies/cn/new"},
    "admin": {"/staff/admin", "/staff/admin/N", "/staff/admin/new", "/staff/jobs"},
}


def _kind(href: str) -> str:
    """A link's kind: its path and query with every number as N, without a closing slash."""
    path, _, query = href.partition("?")
    kind = re.sub(r"\d+", "N", path).rstrip("/") or "/"
    return kind + ("?" + re.sub(r"\d+", "N", query) if query else "")


def _world(make_cardholder, make_account, make_staff):
    """Staff of every role, and accounts that give each staff page rows to show: overdue
    accounts (one assigned to the collector, with a kept plan and a broken one), a payment,
    a dispute in the customer-service queue and an account referred to legal."""
    today = utcnow().date()
    staff = {role: make_staff(role, name=name) for role, name in [
        ("collector", "Annabel Featherstonehaugh-Worthington"),
        ("collections_manager", "陈博文"), ("customer_service", "Maximilian Oberhausen"),
        ("legal", "Lena Legal"), ("risk", "Rafael Riskmanagement"),
        ("admin", "Ada Administrator")]}
    holder = make_cardholder(full_name="Alexandrina Featherstonehaugh", locale="zh_Hans")
    assigned = make_account(holder, principal=3_456_789, interest=20_000, fees=15_000,
                            minimum_due=300_000, oldest_unpaid_due_date=today - timedelta(days=47),
                            account_number="6200000000004711")
    hold(assigned, staff["collector"], at(today - timedelta(days=3), 0))
    make_plan(assigned, "active", started_on=today, created=at(today, 0), total=123_456_789)
    other = make_account(principal=250_000, oldest_unpaid_due_date=today - timedelta(days=95),
                         account_number="6200000000004712")
    hold(other, staff["collector"], at(today - timedelta(days=1), 0))
    make_plan(other, "broken", started_on=today - timedelta(days=40),
              created=at(today - timedelta(days=40), 0), missed=True)
    pay(assigned, 97_00, "staff-wrap", at(today, 1))
    join("billing", staff["customer_service"], "en", "zh_Hans")
    raise_dispute(assigned, description="The late fee of November was charged twice, "
                                        "although the payment reached you on 3 November.")
    refer(late_account(make_account, make_cardholder(full_name="Wang Fang"),
                       account_number="6200000000077001", oldest_unpaid_due_date=date(2026, 6, 1)))
    _db.session.commit()
    return staff


def _check(page) -> list[str]:
    """What is wrong with the page on screen: words broken at 1280 or 390 px, and at 390 px
    an axe violation or the page scrolling sideways."""
    problems = word_break_problems(page, WIDTHS)
    page.set_viewport_size({"width": NARROW, "height": page.viewport_size["height"]})
    for check in (axe_check, lambda p: assert_no_horizontal_scroll(p, NARROW)):
        try:
            check(page)
        except AssertionError as failure:  # every page's findings in one report
            problems.append(str(failure))
    page.set_viewport_size({"width": 1280, "height": page.viewport_size["height"]})
    return problems


def _walk(page, role: str) -> list[str]:
    """Every staff page reached by links from the role's home, one of each kind (a link's
    query counts: the closed disputes are a page of their own): the problems found."""
    home = path_of(page)
    queue, seen, problems = [home], {_kind(home)}, []
    while queue:
        path = queue.pop(0)
        response = page.goto(path)
        assert response.status == 200, (role, path, response.status)
        page.wait_for_load_state("load")
        problems += _check(page)
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.pathname + a.search)"):
            if href.startswith("/staff") and not _NOT_A_PAGE.search(href) \
                    and _kind(href) not in seen:
                seen.add(_kind(href))
                queue.append(href)
    paths = {kind.split("?")[0] for kind in seen}
    missing = MUST_REACH[role] - paths
    assert not missing, f"{role} did not reach {sorted(missing)} (reached {sorted(seen)})"
    return problems + (_previews(page) if role == "risk" else [])


def _previews(page) -> list[str]:
    """The risk role's previews, shown after a form is posted: a policy version's effect and
    the plan limits' table of what changes."""
    page.goto("/staff/risk/policies")
    page.locator("a[href$='/new']").first.click()
    page.wait_for_url("**/new")
    with page.expect_navigation():
        page.locator("input[name=preview]").click()
    assert page.locator("#preview-heading").count() == 1, "no preview of the policy"
    problems = _check(page)
    page.goto("/staff/risk/plan-limits")
    numeric = page.locator("form[method=post] input[inputmode=numeric]").first
    numeric.fill(str(int(numeric.input_value() or 0) + 1))
    with page.expect_navigation():
        page.locator("button[name=preview]").click()
    assert page.locator("#preview-title + .table-wrap table").count() == 1, "no table of changes"
    return problems + _check(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_no_word_breaks_on_any_staff_page(page, live_server, make_cardholder, make_account,
                                          make_staff, locale):
    staff = _world(make_cardholder, make_account, make_staff)
    page.context.add_cookies([{"name": "portal_locale", "value": locale, "url": live_server}])
    problems = []
    for role, member in staff.items():
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "portal_locale", "value": locale,
                                   "url": live_server}])
        page.set_viewport_size({"width": 1280, "height": 800})
        _staff_sign_in(page, member)
        problems += _walk(page, role)
    assert not problems, "\n".join(problems)
