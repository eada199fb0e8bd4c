"""Issue 16 servicing in a browser: a cardholder delays a payment of an active plan, reads
the new schedule and terms, agrees, and sees the change on the plan page; in English and
Chinese, at phone and desktop size, with axe and the 360 px check on each page."""
from __future__ import annotations

from datetime import date

import pytest

from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, submit
from tests.e2e.test_coverage_cardholder import LOCALES, visit
from tests.e2e.test_disputes import _choose_language, _sign_in
from tests.integration.plan_helpers import agree


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("locale,lang", LOCALES)
def test_a_cardholder_delays_a_payment_and_sees_the_change(page, make_cardholder, make_account,
                                                           locale, lang):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    plan = agree(account)  # six monthly payments from 5 December 2026
    _db.session.commit()
    base = f"/accounts/{account.id}/plans/{plan.id}"
    _sign_in(page, holder.phone)
    _choose_language(page, locale)

    visit(page, base, lang)
    visit(page, f"{base}/change", lang)
    page.select_option("#delay-seq", "1")
    page.fill("#delay-date", "2026-12-12")
    submit(page, "delay-seq")
    expect_path(page, f"{base}/change/review")
    check_page(page)
    assert page.locator("h1").count() == 1
    page.check("#consent")
    submit(page, "consent")
    expect_path(page, base)
    check_page(page)
    assert page.locator("#plan-changes li").count() == 1
    assert page.locator(f"#plan-changes a[href='{base}/agreements/2.pdf']").count() == 1
