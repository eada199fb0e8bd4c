"""Breathing space in the browser (issue 16): staff record one on the care page, the
cardholder's dashboard says what is frozen; both at phone and desktop sizes, in English and
Chinese, with axe and whole words."""
from __future__ import annotations

from datetime import timedelta

from portal.care import services
from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import (check_page, expect_path, sign_in_cardholder, sign_in_staff,
                               submit, word_break_problems)
from tests.e2e.test_disputes import _choose_language

WIDTHS = (320, 390, 1280)


def test_staff_record_a_breathing_space_on_the_care_page(page, make_account, make_staff):
    account = make_account(oldest_unpaid_due_date=utcnow().date() - timedelta(days=20))
    sign_in_staff(page, make_staff("customer_service"))
    page.goto(f"/staff/care/accounts/{account.id}")
    check_page(page)
    page.select_option("#kind", "breathing_space:standard")
    page.fill("#starts_on", utcnow().date().isoformat())
    page.fill("#note", "Debt adviser's notice received by email.")
    submit(page, "kind")
    expect_path(page, f"/staff/care/accounts/{account.id}")
    assert page.locator("#care-records li").count() == 1
    assert "In force" in page.locator("#care-records").inner_text()
    check_page(page)
    assert word_break_problems(page, WIDTHS) == []


def test_the_cardholder_sees_what_is_frozen_in_both_languages(page, make_cardholder,
                                                             make_account, make_staff):
    today = utcnow().date()
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    account = make_account(holder, oldest_unpaid_due_date=today - timedelta(days=20))
    services.add_record(account, make_staff("customer_service"), kind="breathing_space",
                        reason="standard", starts_on=today, ends_on=None, note=None,
                        today=today)
    _db.session.commit()
    sign_in_cardholder(page, holder.phone)
    box = page.locator(".standing[data-lead=breathing_space]")
    assert "You are in a breathing space until" in box.inner_text()
    check_page(page)
    assert word_break_problems(page, WIDTHS) == []
    _choose_language(page, "zh_Hans")
    assert "您处于喘息期" in page.locator(".standing").inner_text()
    check_page(page)
    assert word_break_problems(page, WIDTHS) == []
