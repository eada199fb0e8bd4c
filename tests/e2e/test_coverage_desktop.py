"""The dispute, payment, plan and contact pages at desktop size (1280x800), in English and
Chinese: their own browser tests run at phone size only. One sign-in walks a representative flow
through each; axe and the 360 px check on every page."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.contact.footer import opt_out_token
from portal.disputes.models import Dispute
from portal.extensions import db as _db
from portal.plans.models import Plan, PlanStatus
from tests.conftest import CARDHOLDER_PASSWORD
from tests.dispute_helpers import join
from tests.e2e.helpers import check_page, expect_path, submit
from tests.e2e.test_coverage_cardholder import LOCALES, visit
from tests.e2e.test_disputes import _choose_language, _sign_in


def _click(page, selector):
    with page.expect_navigation():
        page.locator(selector).first.click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("locale,lang", LOCALES)
def test_dispute_payment_plan_and_contact_pages_at_desktop_size(page, make_cardholder,
                                                                make_account, make_staff,
                                                                locale, lang):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=500_000, interest=20_000, fees=15_000,
                           minimum_due=50_000, oldest_unpaid_due_date=date(2026, 10, 1))
    join("billing", make_staff("customer_service"), "en", "zh_Hans")
    account_id, holder_id = account.id, holder.id
    _sign_in(page, holder.phone)
    _choose_language(page, locale)

    # Disputes: the list, the form (refused, then sent) and the dispute's page.
    visit(page, "/disputes", lang)
    visit(page, f"/accounts/{account_id}/disputes/new", lang)
    page.fill("#amount", "120.50")
    submit(page, "description")  # no description: the form comes back with the error
    assert page.locator(".error-message").count() >= 1
    check_page(page)
    page.fill("#description", "I paid this on 30 October at the bank.")
    submit(page, "description")
    dispute_id = _db.session.scalar(select(Dispute.id))
    expect_path(page, f"/disputes/{dispute_id}")
    visit(page, f"/disputes/{dispute_id}", lang)

    # Payments: choose, the sandbox card page, the result and the receipt.
    visit(page, f"/accounts/{account_id}/pay", lang)
    page.check("input[name=choice][value=overdue]")
    _click(page, "#submit")
    check_page(page)
    page.fill("#card_number", "4242 4242 4242 4242")
    page.fill("#expiry", "12/30")
    page.fill("#cvc", "123")
    _click(page, "#submit")
    assert page.locator("[data-payment-status=succeeded]").count() == 1
    check_page(page)
    _click(page, "[data-payment-status] a.button")
    assert page.locator("dl.facts").count() == 1
    check_page(page)

    # Plans: the proposal and hardship forms, the offers, the terms and the agreed plan.
    visit(page, f"/accounts/{account_id}/plans/propose", lang)
    visit(page, f"/accounts/{account_id}/plans/hardship", lang)
    visit(page, f"/accounts/{account_id}/plans/offers", lang)
    _click(page, "section.offer a.button")
    expect_path(page, f"/accounts/{account_id}/plans/confirm")
    check_page(page)
    page.check("#consent")
    submit(page, "consent")
    _db.session.expire_all()
    plan = _db.session.scalar(select(Plan).order_by(Plan.id.desc()))
    assert plan.status == PlanStatus.ACTIVE
    visit(page, f"/accounts/{account_id}/plans/{plan.id}", lang)

    # Contact: preferences saved, and the opt-out page an email links to.
    visit(page, "/contact/preferences", lang)
    page.uncheck("#sms_on")
    submit(page, "sms_on")
    expect_path(page, "/contact/preferences")
    check_page(page)
    visit(page, f"/contact/opt-out/{opt_out_token(holder_id, 'email')}", lang)
