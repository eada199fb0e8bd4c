"""Issue 13 items 4 and 6 in a real browser, at phone and desktop size, in English and
Chinese: a broken plan and a counter-offer on the dashboard pass axe-core, fit a small phone,
and the counter-offer's link leads to the terms to accept or decline."""
from __future__ import annotations

from datetime import date

import pytest

from portal.extensions import db as _db
from portal.plans import decisions, lifecycle
from portal.plans.jobs import run_plan_monitoring
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, path_of, sign_in_cardholder as _sign_in
from tests.integration.plan_helpers import TODAY, agree, consent_for, spec


def _late(make_cardholder, make_account, locale):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    return holder, account


@pytest.mark.parametrize("locale,ended", [("en", "Your repayment plan ended on"),
                                          ("zh_Hans", "您的还款计划已于")])
def test_a_broken_plan_on_the_dashboard_and_timeline(page, make_cardholder, make_account, clock,
                                                     locale, ended):
    holder, account = _late(make_cardholder, make_account, locale)
    agree(account)
    _db.session.commit()
    day = date(2026, 12, 16)  # the first payment (5 December) is 11 days late: the plan ends
    clock.move_to(day)
    run_plan_monitoring(day)
    _sign_in(page, holder.phone)
    box = page.locator('.standing[data-lead="plan_broken"]')
    assert ended in box.inner_text()
    check_page(page)
    page.goto(f"/accounts/{account.id}/timeline")
    assert ended in page.locator('.standing[data-lead="plan_broken"]').inner_text()
    check_page(page)


def test_a_counter_offer_links_from_the_dashboard_to_the_terms(page, make_cardholder,
                                                                make_account, make_staff):
    holder, account = _late(make_cardholder, make_account, "en")
    asked = spec(count=24)
    plan = lifecycle.submit(account, asked, consent_for(account, asked), source="proposal",
                            today=TODAY)
    decisions.counter(plan, make_staff("collector"), spec(count=18), TODAY,
                      "Eighteen months keeps each payment affordable.")
    _db.session.commit()
    _sign_in(page, holder.phone)
    check_page(page)
    with page.expect_navigation():
        page.get_by_role("link", name="See the new terms and reply").click()
    assert path_of(page) == f"/accounts/{account.id}/plans/{plan.id}"
    assert "Eighteen months keeps each payment affordable." in page.content()
