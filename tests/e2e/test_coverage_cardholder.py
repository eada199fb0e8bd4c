"""Cardholder pages no other browser test opens: the plans overview, an account's plans, the
cancel confirmation, automatic payments, choosing an account to pay, "payment not started" and
the error page; in English and Chinese, at phone and desktop size, with axe and the 360 px check
on each page and, in Chinese, a heading that is actually translated."""
from __future__ import annotations

import re
from datetime import date

import pytest

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.payments.gateway import ProviderUnavailable
from portal.payments.models import Payment
from portal.payments.sandbox import SandboxGateway
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, read_code, submit
from tests.e2e.test_disputes import _choose_language, _sign_in
from tests.integration.payment_helpers import make_active_plan

LOCALES = [("en", "en"), ("zh_Hans", "zh-Hans")]
CJK = re.compile(r"[\u4e00-\u9fff]")


def visit(page, path, lang, status=200):
    """Open `path`, expect `status`, one h1 in the reader's language, then axe and 360 px."""
    response = page.goto(path)
    assert response.status == status, (path, response.status)
    assert page.get_attribute("html", "lang") == lang
    heading = page.locator("h1")
    assert heading.count() == 1, path
    if lang == "zh-Hans":
        assert CJK.search(heading.inner_text()), f"{path}: h1 not translated"
    check_page(page)


class _ProviderDown(SandboxGateway):
    """The sandbox, except that the provider does not answer when a payment is started."""

    def create_payment_intent(self, **kwargs):
        raise ProviderUnavailable("sandbox: provider down (test)")


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("locale,lang", LOCALES)
def test_plan_autopay_choose_account_and_error_pages(page, app, monkeypatch, make_cardholder,
                                                     make_account, locale, lang):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=400_000, fees=10_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1), card_last4="4242")
    other = make_account(holder, principal=90_000, card_last4="1881")
    plan = make_active_plan(account, [30_000, 30_000, 30_000], today_for(account))
    account_id, other_id, plan_id = account.id, other.id, plan.id
    _sign_in(page, holder.phone)
    _choose_language(page, locale)

    visit(page, "/plans", lang)
    assert page.locator(f"a[href*='/accounts/{account_id}/plans']").count() >= 1
    visit(page, f"/accounts/{account_id}/plans", lang)
    visit(page, f"/accounts/{account_id}/plans/{plan_id}/cancel", lang)
    assert page.locator("form button.button-danger").count() == 1
    visit(page, f"/accounts/{account_id}/autopay", lang)
    assert page.locator("#card_number").count() == 1  # the sandbox card form: a plan is active

    visit(page, "/pay", lang)
    for target in (account_id, other_id):
        assert page.locator(f"a[href='/accounts/{target}/pay']").count() == 1
    page.locator(f"a[href='/accounts/{other_id}/pay']").click()
    expect_path(page, f"/accounts/{other_id}/pay")

    visit(page, "/accounts/999999", lang, status=404)
    visit(page, "/accounts/999999/plans", lang, status=404)

    # The provider does not answer when the payment starts: "Payment not started" (503).
    monkeypatch.setitem(app.extensions, "payment_gateway", _ProviderDown())
    page.goto(f"/accounts/{account_id}/pay")
    page.check("input[name=choice][value=overdue]")
    with page.expect_navigation():
        page.locator("#submit").click()
    payment_id = _db.session.query(Payment.id).scalar()
    assert page.get_attribute("html", "lang") == lang
    assert page.locator(f"a[href='/payments/{payment_id}/checkout']").count() == 1
    check_page(page)
    visit(page, f"/payments/{payment_id}/checkout", lang, status=503)


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("locale,lang", LOCALES)
def test_forgot_password_pages(page, app, make_cardholder, locale, lang):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    page.goto("/login")
    _choose_language(page, locale)
    visit(page, "/forgot", lang)
    page.fill("#identity", holder.phone)
    submit(page, "identity")
    expect_path(page, "/forgot/code")
    visit(page, "/forgot/code", lang)
    page.fill("#code", read_code(app.config["OUTBOX_DIR"], holder.phone))
    submit(page, "code")
    expect_path(page, "/forgot/password")
    visit(page, "/forgot/password", lang)
    page.fill("#password", "violet-Harbour-mango-72")
    page.fill("#confirm", "violet-Harbour-mango-72")
    submit(page, "password")
    expect_path(page, "/login")
    check_page(page)
