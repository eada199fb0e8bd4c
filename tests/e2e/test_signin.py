"""Sign-in journeys in a real browser, at phone and desktop size, with axe on every page:
a cardholder sets up online access with the texted code, signs in, switches to Chinese and
signs out; staff sign in with a password and an authenticator code."""
from __future__ import annotations

import re
from datetime import date

import pyotp
import pytest

from tests.conftest import STAFF_PASSWORD
from tests.e2e.helpers import check_page, expect_path, path_of as _path, read_code, submit

NEW_PASSWORD = "violet-Harbour-mango-71"
SIGN_OUT = "form[action$='/logout'] [type=submit]"  # the header button, in any language


def _sign_in(page, identity, password):
    page.goto("/login")
    check_page(page)
    page.fill("#identity", identity)
    page.fill("#password", password)
    submit(page, "identity")


def _sign_out(page):
    with page.expect_navigation():
        page.locator(SIGN_OUT).click()


def test_cardholder_sets_up_access_signs_in_switches_language_and_signs_out(
        page, app, make_cardholder, make_account):
    holder = make_cardholder(phone="+8613800138000", email="mei.lin@example.com",
                             date_of_birth=date(1985, 4, 12))
    account = make_account(holder, card_last4="4242")
    number, phone, email = account.account_number, holder.phone, holder.email

    # Set up online access: account number, date of birth, last four card digits ...
    page.goto("/enrol")
    check_page(page)
    assert page.get_attribute("#date_of_birth", "type") == "date"
    page.fill("#account_number", number)
    page.fill("#date_of_birth", "1985-04-12")
    page.fill("#card_last4", "4242")
    submit(page, "account_number")

    # ... the code texted to the phone on file ...
    expect_path(page, "/enrol/code")
    check_page(page)
    page.fill("#code", read_code(app.config["OUTBOX_DIR"], phone))
    submit(page, "code")

    # ... and a password of their own; then they are in.
    expect_path(page, "/enrol/password")
    check_page(page)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page, "password")
    expect_path(page, "/home")
    assert page.get_by_role("heading", level=1, name="My accounts").is_visible()
    check_page(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    check_page(page)

    # Signing in afterwards with phone + password.
    _sign_in(page, phone, NEW_PASSWORD)
    expect_path(page, "/home")

    # The language picker in the header: the same page comes back in Chinese.
    page.select_option("#lang-select", "zh_Hans")
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    expect_path(page, "/home")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("portal_locale") == "zh_Hans"
    assert page.get_by_role("heading", level=1, name="我的账户").is_visible()
    assert page.get_by_role("button", name="切换语言").is_visible()
    check_page(page)

    _sign_out(page)
    expect_path(page, "/login")
    assert page.get_attribute("html", "lang") == "zh-Hans"  # the choice outlives the session
    check_page(page)
    page.goto("/home")
    assert _path(page) == "/login"  # signed out means signed out

    # A new browser (no cookie): the choice was kept in the profile; email works as identity.
    page.context.clear_cookies()
    _sign_in(page, email, NEW_PASSWORD)
    expect_path(page, "/home")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1, name="我的账户").is_visible()
    _sign_out(page)


def _staff_sign_in(page, email, secret):
    page.goto("/staff/login")
    check_page(page)
    page.fill("#email", email)
    page.fill("#password", STAFF_PASSWORD)
    submit(page, "email")
    expect_path(page, "/staff/login/code")
    check_page(page)
    page.fill("#code", pyotp.TOTP(secret).now())
    submit(page, "code")
    assert _path(page).startswith("/staff") and "/login" not in _path(page), page.url
    check_page(page)


def test_staff_member_signs_in_with_password_and_authenticator_code(page, make_staff):
    staff = make_staff("collector", name="Wang Fang")
    _staff_sign_in(page, staff.email, staff.totp_secret)
    assert page.locator("h1").count() == 1
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/staff/login"))
    check_page(page)
    page.goto("/staff/")
    assert "/staff/login" in _path(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_each_staff_role_lands_on_its_own_home_page(page, make_staff):
    roles = ("customer_service", "collector", "collections_manager", "risk", "legal", "admin")
    staff = {role: make_staff(role) for role in roles}
    credentials = {role: (s.email, s.totp_secret) for role, s in staff.items()}
    headings = {}
    for role in roles:
        _staff_sign_in(page, *credentials[role])
        headings[role] = page.locator("h1").inner_text().strip()
        _sign_out(page)
    assert len(set(headings.values())) == len(roles), headings
