"""The Stripe page in a browser: pressing "Pay" asks the portal again first; when a payment
posted meanwhile lowered what is owed, the page shows the new amount and says so, and only the
next press confirms. Stripe.js is replaced by a stand-in served at its own address (the page's
CSP still applies), so the test needs no network and sees what the page asks Stripe to do."""
from __future__ import annotations

from datetime import date

import pytest

from portal.payments import services
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page
from tests.integration.journal_helpers import pay
from tests.integration.test_stripe_pages import stripe_configured  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("viewport", ["phone"], indirect=True)

STRIPE_STAND_IN = """
window.confirmed = [];
window.Stripe = function () {
  return {
    elements: function () {
      return {
        create: function () { return { mount: function () {} }; },
        fetchUpdates: function () { return Promise.resolve({}); }
      };
    },
    confirmPayment: function (params) {
      window.confirmed.push(params.confirmParams.return_url);
      return new Promise(function () {});
    }
  };
};
"""


@pytest.mark.parametrize("locale,changed", [("en", "3,800.00 is owed now"),
                                            ("zh_Hans", "现在应还")])
def test_a_balance_lowered_after_the_page_loaded_is_shown_and_confirmed_again(
        page, make_account, make_cardholder, stripe_configured, clock, locale,  # noqa: F811
        changed):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=400_000, fees=30_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))
    payment = services.open_payment(account, choice="full", other_amount=None,
                                    currency=account.currency,
                                    nonce=services.issue_nonce(account))
    services.db.session.commit()
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        content_type="application/javascript", body=STRIPE_STAND_IN))
    page.goto("/login")
    page.fill("#identity", holder.email)
    page.fill("#password", CARDHOLDER_PASSWORD)
    with page.expect_navigation():
        page.locator("form", has=page.locator("#password")).locator("button[type=submit]").click()
    page.goto(f"/payments/{payment.id}/checkout")
    assert "4,300.00" in page.locator("#payment-amount").inner_text()
    pay(account, 50_000, "paid-by-phone", clock.now())  # another payment posts meanwhile

    page.locator("#payment-submit").click()
    notice = page.locator("#payment-notice")
    notice.wait_for(state="visible")
    assert changed in notice.inner_text()
    assert "3,800.00" in page.locator("#payment-amount").inner_text()
    assert "3,800.00" in page.locator("#payment-submit").inner_text()
    assert page.evaluate("window.confirmed") == []  # nothing was sent to Stripe
    assert stripe_configured[-1] == {"changed": "pi_pages_1", "amount": 380_000}
    check_page(page)

    page.locator("#payment-submit").click()
    for _ in range(50):  # (wait_for_function would evaluate a string, which the CSP forbids)
        if page.evaluate("window.confirmed.length"):
            break
        page.wait_for_timeout(100)
    [return_url] = page.evaluate("window.confirmed")
    assert return_url.endswith(f"/payments/{payment.id}")
