"""Contact preferences and the opt-out link in a real browser, at phone size, in both
languages; axe and the 360 px check on each page."""
from __future__ import annotations

import pytest

from portal.contact import services as contact
from portal.contact.footer import opt_out_token
from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, submit

LANGS = [("en", "en"), ("zh_Hans", "zh-Hans")]


def _sign_in(page, phone):
    page.goto("/login")
    page.fill("#identity", phone)
    page.fill("#password", CARDHOLDER_PASSWORD)
    submit(page, "identity")
    expect_path(page, "/home")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_cardholder_turns_texts_off_on_a_phone(page, make_cardholder, locale, lang):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    _sign_in(page, holder.phone)
    page.goto("/contact/preferences")
    assert page.get_attribute("html", "lang") == lang
    check_page(page)
    page.uncheck("#sms_on")
    submit(page, "sms_on")
    expect_path(page, "/contact/preferences")
    check_page(page)
    assert not page.is_checked("#sms_on") and page.is_checked("#email_on")
    _db.session.expire_all()
    assert contact.preferences(holder) == {"email": True, "sms": False}


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_opt_out_link_from_an_email_works_without_signing_in(page, make_cardholder):
    holder = make_cardholder()
    page.goto(f"/contact/opt-out/{opt_out_token(holder.id, 'email')}")
    check_page(page)
    page.locator("form.card button[type=submit], form.card input[type=submit]").click()
    page.wait_for_selector("text=Your choice is saved")
    check_page(page)
    _db.session.expire_all()
    assert contact.preferences(holder)["email"] is False
