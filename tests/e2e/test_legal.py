"""The legal workspace at desktop size and a cardholder's timeline with legal steps on a phone,
in both languages: each page passes axe-core and does not scroll sideways at 360 px."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.legal import services
from portal.legal.models import LegalAction
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, submit
from tests.e2e.helpers import sign_in_staff as _staff_sign_in
from tests.integration.legal_helpers import TODAY, freeze, late_account, refer

LANGS = [("en", "en"), ("zh_Hans", "zh-Hans")]




@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_legal_records_a_claim_from_the_workspace(page, make_cardholder, make_account,
                                                  make_staff, monkeypatch, clock):
    freeze(clock)
    legal = make_staff("legal", name="Lena Legal")
    account = late_account(make_account, make_cardholder(full_name="Wang Fang"),
                           account_number="6200000000077001")
    refer(account)
    _staff_sign_in(page, legal)
    expect_path(page, "/staff/legal")
    assert page.get_by_text("Wang Fang").is_visible()
    check_page(page)

    page.get_by_role("link", name="6200000000077001").click()
    expect_path(page, f"/staff/legal/accounts/{account.id}")
    check_page(page)

    page.select_option("#kind", "claim_filed")
    page.fill("#occurred_on", "2026-12-01")  # after "today": refused on the field
    page.fill("#amount", "12,000.00")
    submit(page, "kind")
    assert page.locator("#occurred_on-error").inner_text().startswith(
        "The date cannot be in the future.")
    check_page(page)

    page.fill("#occurred_on", "2026-11-20")
    page.fill("#court_reference", "Pudong People's Court (2026) 123")
    page.fill("#note", "Counsel instructed.")
    submit(page, "kind")
    expect_path(page, f"/staff/legal/accounts/{account.id}")
    assert page.locator(".flash-success").count() == 1
    _db.session.expire_all()
    action = _db.session.scalar(select(LegalAction).where(LegalAction.account_id == account.id))
    assert action.amount == 1_200_000
    check_page(page)

    with page.expect_navigation():
        page.get_by_role("link", name=f"Correct entry {action.id}").click()
    check_page(page)
    page.fill("#reason", "Filed on another account.")
    submit(page, "reason")
    expect_path(page, f"/staff/legal/accounts/{account.id}")
    assert page.locator(".badge", has_text="Recorded in error").is_visible()
    check_page(page)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_cardholder_reads_legal_steps_on_the_timeline_on_a_phone(page, make_cardholder,
                                                                 make_account, make_staff,
                                                                 monkeypatch, locale, lang, clock):
    freeze(clock)
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = late_account(make_account, holder)
    refer(account)
    staff = make_staff("legal")
    for kind, on, amount, extra in (
            ("claim_filed", date(2026, 11, 10), 1_200_000,
             {"court_reference": "Pudong People's Court (2026) Hu 0115 Min Chu 123"}),
            ("hearing_scheduled", date(2026, 11, 12), None, {"hearing_on": date(2027, 1, 15)})):
        services.record_action(account, staff, services.StepInput(
            kind=kind, occurred_on=on, amount=amount, note="Staff only.", **extra), TODAY)
    _db.session.commit()

    page.goto("/login")
    page.fill("#identity", holder.phone)
    page.fill("#password", CARDHOLDER_PASSWORD)
    submit(page, "identity")
    expect_path(page, "/home")
    page.goto(f"/accounts/{account.id}/timeline")
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("#legal-next").is_visible()
    assert page.get_by_text("Staff only.").count() == 0
    if locale == "en":
        assert page.get_by_text("we filed a claim for CN¥12,000.00 with the court").is_visible()
    check_page(page)
