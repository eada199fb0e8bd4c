"""Browser test of staff administration at desktop size: an administrator adds a staff member,
who sets a password and an authenticator through the emailed link and signs in; the
administrator changes their roles, resets their authenticator and switches them off, which
signs them out at once. Every page checked with axe."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.e2e.helpers import assert_no_horizontal_scroll, axe_check, expect_path, submit
from tests.e2e.test_collections import _staff_sign_in
from tests.outbox_reader import read_outbox

desktop = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
PASSWORD = "copper-heron-lattice-73"


def _link(app, to):
    mails = [m for m in read_outbox(app.config["OUTBOX_DIR"]) if m["to"] == to]
    assert mails, f"nothing emailed to {to}"
    return re.search(r"https?://\S+(/staff/setup/\S+)", mails[-1]["body"]).group(1)


def _next_code(secret):
    """The code of the next time step: the one typed at set-up is used up (no replay)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _set_up(desk, path, email):
    desk.goto(path)
    axe_check(desk)
    assert_no_horizontal_scroll(desk)  # the link may well be opened on a phone
    secret = desk.locator("#setup-key").inner_text().replace(" ", "")
    desk.fill("#password", PASSWORD)
    desk.fill("#confirm", PASSWORD)
    desk.fill("#code", pyotp.TOTP(secret).now())
    submit(desk, "code")
    expect_path(desk, "/staff/login")
    assert "Your staff account is ready." in desk.content()
    desk.fill("#email", email)
    desk.fill("#password", PASSWORD)
    submit(desk, "email")
    return secret


@desktop
def test_admin_adds_a_member_changes_roles_resets_and_switches_off(page, browser, live_server,
                                                                   app, make_staff):
    admin = make_staff("admin", name="Ada Admin")
    _staff_sign_in(page, admin)
    page.goto("/staff/admin")
    axe_check(page)
    page.get_by_role("link", name="Add a staff member").click()
    expect_path(page, "/staff/admin/new")
    axe_check(page)
    submit(page, "name")  # empty: messages, nobody created
    assert "Enter the person" in page.content() and "Choose at least one role." in page.content()
    axe_check(page)
    page.fill("#name", "Nadia Newcomer")
    page.fill("#email", "nadia@issuer.example")
    page.get_by_label("Collector", exact=True).check()
    submit(page, "name")
    assert "we emailed nadia@issuer.example a link" in page.content()
    axe_check(page)
    member_path = page.url.split(live_server, 1)[1]

    desk_context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    desk = desk_context.new_page()
    secret = _set_up(desk, _link(app, "nadia@issuer.example"), "nadia@issuer.example")
    desk.fill("#code", _next_code(secret))
    submit(desk, "code")
    expect_path(desk, "/staff/collections")

    # roles: add legal
    page.goto(member_path)
    page.get_by_label("Legal", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save the roles").click()
    assert "The roles of Nadia Newcomer are changed." in page.content()
    axe_check(page)

    # reset the authenticator: Nadia is signed out, a new link sets a new one
    with page.expect_navigation():
        page.get_by_role("button", name="Reset the authenticator").click()
    assert "is reset and they are signed out" in page.content()
    desk.goto("/staff/collections")
    expect_path(desk, "/staff/login")
    new_secret = _set_up(desk, _link(app, "nadia@issuer.example"), "nadia@issuer.example")
    assert new_secret != secret
    desk.fill("#code", _next_code(new_secret))
    submit(desk, "code")
    expect_path(desk, "/staff/")  # two roles: the page that lists both homes

    # switch off: her session ends at once
    with page.expect_navigation():
        page.get_by_role("button", name="Switch the account off").click()
    assert "is switched off and signed out everywhere" in page.content()
    axe_check(page)
    desk.goto("/staff/collections")
    expect_path(desk, "/staff/login")
    desk_context.close()

    # the last administrator cannot switch themselves off
    page.goto("/staff/admin")
    page.get_by_role("link", name="Ada Admin").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Switch the account off").click()
    assert "without an administrator" in page.content()
    axe_check(page)
