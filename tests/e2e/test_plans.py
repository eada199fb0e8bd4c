"""Plans in a real browser at phone size, in both languages: choosing an offer, proposing,
the hardship form with an upload, and a collector's counter-offer the cardholder accepts."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.plans import decisions
from portal.plans.models import Plan, PlanStatus
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, submit
from tests.e2e.test_disputes import _choose_language, _sign_in, _staff_sign_in
from tests.integration.plan_helpers import agree, spec

LANGS = [("en", "en"), ("zh_Hans", "zh-Hans")]


# Each profile once: a Chinese reader on the cn profile, an English one on the us profile.
PROFILES = [("zh_Hans", "zh-Hans", "cn", "CNY", "Asia/Shanghai"),
            ("en", "en", "us", "USD", "America/New_York")]


def _holder(make_cardholder, make_account, locale, profile="cn", currency="CNY",
            timezone="Asia/Shanghai"):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale, timezone=timezone)
    return holder, make_account(holder, principal=500_000, interest=20_000, fees=15_000,
                                profile=profile, currency=currency)


def _plan():
    _db.session.expire_all()
    return _db.session.scalar(select(Plan).order_by(Plan.id.desc()))


def _agree(page):
    check_page(page)
    page.check("#consent")
    submit(page, "consent")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang,profile,currency,timezone", PROFILES)
def test_cardholder_chooses_an_offer_on_a_phone(page, make_cardholder, make_account, locale,
                                                lang, profile, currency, timezone):
    holder, account = _holder(make_cardholder, make_account, locale, profile, currency,
                              timezone)
    _sign_in(page, holder.phone)
    _choose_language(page, locale)
    page.goto(f"/accounts/{account.id}/plans/offers")
    assert page.get_attribute("html", "lang") == lang
    check_page(page)
    page.locator("section.offer details summary").nth(1).click()
    with page.expect_navigation():
        page.locator("section.offer a.button").nth(1).click()
    expect_path(page, f"/accounts/{account.id}/plans/confirm")
    _agree(page)
    plan = _plan()
    expect_path(page, f"/accounts/{account.id}/plans/{plan.id}")
    assert plan.status == PlanStatus.ACTIVE and plan.terms_locale == locale
    assert plan.currency == currency and plan.policy_profile == profile
    check_page(page)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_proposal_reviewed_countered_and_accepted(page, browser, live_server, make_cardholder,
                                                  make_account, make_staff, locale, lang):
    holder, account = _holder(make_cardholder, make_account, locale)
    first = (today_for(account) + timedelta(days=7)).isoformat()
    _sign_in(page, holder.phone)
    _choose_language(page, locale)
    page.goto(f"/accounts/{account.id}/plans/propose")
    check_page(page)
    page.fill("#count", "80")
    page.select_option("#frequency", "monthly")
    page.fill("#first_date", first)
    submit(page, "count")
    check_page(page)  # refused: the reason and the nearest plan
    page.fill("#count", "24")
    page.fill("#first_date", first)
    submit(page, "count")
    expect_path(page, f"/accounts/{account.id}/plans/confirm")
    _agree(page)
    plan = _plan()
    assert plan.status == PlanStatus.IN_REVIEW

    staff_context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    staff_page = staff_context.new_page()
    _staff_sign_in(staff_page, make_staff("collector"))
    _choose_language(staff_page, locale)  # the collector reads the same language
    staff_page.goto("/staff/plans/review")
    assert staff_page.get_attribute("html", "lang") == lang
    check_page(staff_page)
    with staff_page.expect_navigation():
        staff_page.locator(f"a[href='/staff/plans/{plan.id}']").click()
    assert staff_page.get_attribute("html", "lang") == lang
    check_page(staff_page)
    staff_page.fill("#count", "18")
    staff_page.fill("#reason", "18 months keeps each payment affordable.")
    submit(staff_page, "reason")
    expect_path(staff_page, "/staff/plans/review")
    assert staff_page.get_attribute("html", "lang") == lang
    check_page(staff_page)
    staff_context.close()

    page.goto(f"/accounts/{account.id}/plans/{plan.id}")
    check_page(page)
    page.check("#consent")
    submit(page, "consent")
    plan = _plan()
    assert plan.status == PlanStatus.ACTIVE and plan.instalment_count == 18


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_hardship_form_with_an_upload_suggests_a_plan(page, make_cardholder, make_account,
                                                      tmp_path, locale, lang):
    holder, account = _holder(make_cardholder, make_account, locale)
    payslip = tmp_path / "payslip.png"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    payslip.write_bytes(buffer.getvalue())
    _sign_in(page, holder.phone)
    _choose_language(page, locale)
    page.goto(f"/accounts/{account.id}/plans/hardship")
    check_page(page)
    for field, value in (("income", "8000"), ("housing", "3000"), ("utilities", "300"),
                         ("food", "1500"), ("transport", "400"), ("childcare", "0"),
                         ("other_debts", "500")):
        page.fill(f"#{field}", value)
    page.set_input_files("#proof", str(payslip))
    submit(page, "income")
    check_page(page)
    page.locator("a.button[href*='/plans/confirm']").click()
    _agree(page)
    plan = _plan()
    assert plan.source == "hardship" and plan.statement.documents[0].content_type == "image/png"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_plan_repriced_at_approval_is_agreed_again_on_a_phone(page, make_cardholder,
                                                              make_account, make_staff,
                                                              locale, lang):
    """A payment came in while the proposal waited for review: approval works the terms out
    again and the cardholder reads why and agrees to the new ones."""
    holder, account = _holder(make_cardholder, make_account, locale)
    today = today_for(account)
    plan = agree(account, spec(count=6, frequency="weekly", first_date=today + timedelta(days=7)),
                 today=today, source="proposal")
    _db.session.commit()
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                                component=Component.PRINCIPAL, amount=-50_000, currency="CNY",
                                effective_date=today, source_ref="e2e-payment:1",
                                posted_at=plan.accepted_at + timedelta(minutes=1)))
    _db.session.commit()
    assert decisions.approve(plan, make_staff("collector"), today) is False
    _db.session.commit()
    _sign_in(page, holder.phone)
    _choose_language(page, locale)
    page.goto(f"/accounts/{account.id}/plans/{plan.id}")
    assert page.get_attribute("html", "lang") == lang
    check_page(page)
    page.check("#consent")
    submit(page, "consent")
    plan = _plan()
    assert plan.status == PlanStatus.ACTIVE and plan.total == 485_000
    check_page(page)
