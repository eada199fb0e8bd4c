"""Every PDF a cardholder downloads (plan agreement, payment receipt, notice) carries its
fonts: read back with pypdf, no font but the standard 14 is left to the reader's machine, and
the card number appears as text, in English and Chinese (issue 13, item 1: Chinese PDFs showed
☒☒☒☒ where the masked card number should be)."""
from __future__ import annotations

from datetime import date

import pytest

from portal.extensions import db as _db
from portal.plans import lifecycle
from tests.integration.account_pages_helpers import make_notice
from tests.integration.payment_helpers import only_payment, pay_with_card, start_payment
from tests.integration.plan_helpers import consent_for, spec
from tests.pdf_reading import not_embedded, pdf_text, squeezed

LOCALES = ["en", "zh_Hans"]
CARD_ENDING = {"en": "Card ending in 4242", "zh_Hans": "尾号 4242 的卡片"}


@pytest.fixture()
def holder_account(make_cardholder, make_account, login_as, client, request):
    locale = request.node.callspec.params["locale"]
    holder = make_cardholder(locale=locale)
    account = make_account(holder, principal=400_000, interest=20_000, fees=10_000,
                           minimum_due=50_000, oldest_unpaid_due_date=date(2026, 10, 1),
                           card_last4="4242")
    login_as(client, holder)
    client.set_cookie("portal_locale", locale)
    return account


def _readable(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    assert not_embedded(data) == [], "fonts left to the reader's machine"
    return pdf_text(data)


@pytest.mark.parametrize("locale", LOCALES)
def test_receipt_embeds_its_fonts_and_shows_the_masked_card(client, holder_account, locale,
                                                            embedded_fonts):
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    pay_with_card(client, payment.id)
    text = _readable(client.get(f"/payments/{payment.id}/receipt.pdf").data)
    assert "•••• 4242" in text
    assert payment.receipt_number in text
    assert ("还款收据" in text) == (locale == "zh_Hans")


@pytest.mark.parametrize("locale", LOCALES)
def test_agreement_embeds_its_fonts_and_shows_the_masked_card(client, holder_account, locale,
                                                              embedded_fonts):
    plan_spec = spec()
    plan = lifecycle.submit(holder_account, plan_spec,
                            consent_for(holder_account, plan_spec, locale=locale),
                            source="offer", today=date(2026, 11, 28))
    _db.session.commit()
    response = client.get(f"/accounts/{holder_account.id}/plans/{plan.id}/agreement.pdf")
    assert response.status_code == 200
    text = _readable(response.data)
    assert "•••• 4242" in text
    assert ("还款计划协议" in text) == (locale == "zh_Hans")


@pytest.mark.parametrize("locale", LOCALES)
def test_notice_embeds_its_fonts_and_names_the_card(client, holder_account, locale,
                                                    embedded_fonts):
    notice = make_notice(holder_account)
    response = client.get(f"/accounts/{holder_account.id}/notices/{notice.id}.pdf")
    assert response.status_code == 200
    text = squeezed(_readable(response.data))
    assert squeezed(CARD_ENDING[locale]) in text
