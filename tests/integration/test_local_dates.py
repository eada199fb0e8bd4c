"""Dates and times a cardholder reads are in their own zone and their language's format, on
pages and in PDFs, and plans are named by what they are rather than a timestamp (issue 13,
item 10: "Paid on 2026-12-05" beside "Agreed on 2026-12-06 01:15 UTC" on the evening of the
5th in New York)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from portal.extensions import db as _db
from portal.plans import lifecycle
from tests.integration.payment_helpers import only_payment, pay_with_card, start_payment
from tests.integration.plan_helpers import consent_for, spec
from tests.pdf_reading import pdf_text, squeezed

# tests.clock.BASE is 28 November 2026 01:00 UTC: 20:00 on the 27th in New York.
EVENING_IN_NEW_YORK = {"en": ("November 27, 2026", "8:00 PM Eastern Standard Time"),
                       "zh_Hans": ("2026年11月27日", "20:00 北美东部标准时间")}
NO_ISO = re.compile(r"\b2026-1[12]-\d\d\b|\bUTC\b|\d\d:\d\d:\d\d")


@pytest.fixture()
def new_yorker(make_cardholder, make_account, login_as, client, request):
    locale = request.node.callspec.params["locale"]
    holder = make_cardholder(locale=locale, timezone="America/New_York")
    account = make_account(holder, principal=400_000, interest=20_000, fees=10_000,
                           minimum_due=50_000, oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, holder)
    client.set_cookie("portal_locale", locale)
    return account


def _plain(text: str) -> str:
    return text.replace("\u202f", " ")  # Babel puts a narrow no-break space before AM/PM


def _facts(html: str) -> dict[str, str]:
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", _plain(html), re.S)
    return {label.strip(): value.strip() for label, value in pairs}


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_receipt_dates_are_the_cardholders_day_and_hour(client, new_yorker, locale):
    start_payment(client, new_yorker, "overdue")
    payment = only_payment(new_yorker.id)
    pay_with_card(client, payment.id)
    day, hour = EVENING_IN_NEW_YORK[locale]
    html = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    facts = list(_facts(html).values())
    assert day in facts  # paid on
    assert any(value.startswith(day) and value.endswith(hour) for value in facts)  # recorded
    assert not NO_ISO.search(" ".join(facts))
    text = _plain(pdf_text(client.get(f"/payments/{payment.id}/receipt.pdf").data))
    assert squeezed(day) in squeezed(text) and squeezed(hour) in squeezed(text)
    assert not NO_ISO.search(text)


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_plan_is_named_by_what_it_is_and_agreed_in_the_cardholders_zone(client, new_yorker,
                                                                       locale):
    plan_spec = spec()  # 6 monthly payments from 5 December
    plan = lifecycle.submit(new_yorker, plan_spec,
                            consent_for(new_yorker, plan_spec, locale=locale),
                            source="offer", today=date(2026, 11, 28))
    _db.session.commit()  # consented at 09:00 UTC on the 28th: 04:00 in New York
    listing = _plain(client.get(f"/accounts/{new_yorker.id}/plans").get_data(as_text=True))
    name = {"en": "Instalment plan: 6 payments from December 5, 2026",
            "zh_Hans": "分期还款计划：6 期，自 2026年12月5日 起"}[locale]
    assert name in listing
    assert not NO_ISO.search(listing) and not re.search(r"\d{1,2}:\d\d", listing)

    agreed = {"en": "November 28, 2026, 4:00 AM Eastern Standard Time",
              "zh_Hans": "2026年11月28日 04:00 北美东部标准时间"}[locale]
    page = _plain(client.get(f"/accounts/{new_yorker.id}/plans/{plan.id}").get_data(as_text=True))
    assert name in page and agreed in page
    pdf = client.get(f"/accounts/{new_yorker.id}/plans/{plan.id}/agreement.pdf").data
    text = squeezed(_plain(pdf_text(pdf)))
    assert squeezed(agreed) in text and "UTC" not in text
