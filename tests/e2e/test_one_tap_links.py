"""One-tap links in the browser (issue 16): a reminder's link asks the card's last four
digits or the date of birth, shows what the message was about, and sends the cardholder to sign in for the page;
a dead link says so and offers sign-in. At phone and desktop sizes, in English and Chinese,
with axe and whole words."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db as _db
from portal.links import services as links
from portal.links.models import PAY_INSTALMENT
from portal.timeutil import utcnow
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, submit, word_break_problems
from tests.e2e.test_disputes import _choose_language
from tests.integration.payment_helpers import make_active_plan

WIDTHS = (320, 390, 1280)
TEXTS = {"en": ("Confirm it is you", "These digits do not match", "About our message",
                "This link does not work any more", "This date of birth does not match"),
         "zh_Hans": ("确认是您本人", "这几位数字不对", "关于我们的消息", "此链接已失效",
                     "出生日期不对")}


def _link(app, account, due_on) -> str:
    with app.test_request_context():
        issued = links.issue(account, PAY_INSTALMENT, amount=30_000, due_on=due_on)
        _db.session.commit()
    return "/l/" + issued.url.rsplit("/l/", 1)[1]


def _measured(page) -> None:
    check_page(page)
    assert word_break_problems(page, WIDTHS) == []


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_a_reminders_link_checks_the_card_then_signs_in_to_pay(app, page, make_cardholder,
                                                               make_account, locale):
    check, wrong, about, gone, wrong_birth = TEXTS[locale]
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, card_last4="5821")
    due = utcnow().date() + timedelta(days=3)
    make_active_plan(account, [30_000] * 6, due)
    path = _link(app, account, due)

    page.goto(path)
    _choose_language(page, locale)
    assert check in page.locator("h1").inner_text()
    _measured(page)
    page.fill("#card_last4", "1234")
    submit(page, "card_last4")
    assert wrong in page.locator(".error-message").inner_text()
    _measured(page)
    page.fill("#date_of_birth", "1990-01-01")  # the date of birth is the other way in
    submit(page, "card_last4")
    assert wrong_birth in page.locator(".error-message").inner_text()
    _measured(page)
    page.fill("#card_last4", "5821")
    submit(page, "card_last4")
    expect_path(page, "/l/continue")
    assert about in page.locator("h1").inner_text()
    _measured(page)

    page.locator("main a.button").first.click()
    expect_path(page, "/login")
    page.fill("#identity", holder.phone)
    page.fill("#password", CARDHOLDER_PASSWORD)
    submit(page, "identity")
    expect_path(page, f"/accounts/{account.id}/pay")
    assert page.locator("input[name=choice][value=instalment]").is_checked()

    page.goto(path)  # used: the page every dead link gets
    assert gone in page.locator("h1").inner_text()
    _measured(page)
