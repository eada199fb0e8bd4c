"""No text breaks inside a word on any cardholder page, at 320, 390 and 1280 px, in English and
Chinese; the header of a phone page stays at most 120 px high (issue 13, item 3: offer cards in
Chinese stacked their labels a character per line, 计/划/类/型; "Stat/us", "Decembe/r"; the
header took about 230 of 844 px).

Measured in the browser: each Latin word (a run of letters or digits) must sit on one line
(its Range has rects on one line only); a piece of Chinese text of three or more characters
must never wrap with at most two characters on each full line in a column squeezed to less
than five characters wide (a sentence wrapping across a wide column is ordinary Chinese).
The measurement itself lives in tests/e2e/helpers.py (word_break_problems); the staff pages
are measured by tests/e2e/test_word_breaks_staff.py.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.balances.services import today_for
from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD
from tests.dispute_helpers import raise_dispute
from tests.e2e.helpers import word_break_problems
from tests.e2e.test_disputes import _choose_language, _sign_in
from tests.integration.account_pages_helpers import make_notice
from tests.integration.payment_helpers import make_active_plan

WIDTHS = (320, 390, 1280)


def _world(make_cardholder, make_account, locale):
    """A cardholder with two overdue accounts: one with a plan being kept (a payment, a
    dispute, a letter, weeks of daily interest), one long overdue with plans on offer."""
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale,
                             full_name="Alexandrina Featherstonehaugh")
    kept = make_account(holder, principal=400_000, interest=20_000, fees=10_000,
                        minimum_due=50_000, oldest_unpaid_due_date=date(2026, 10, 1),
                        card_last4="4242")
    offered = make_account(holder, principal=3_500_000, interest=20_000, fees=15_000,
                           minimum_due=300_000, oldest_unpaid_due_date=date(2026, 8, 1),
                           card_last4="1881")
    day = date(2026, 10, 2)
    while day < date(2026, 11, 28):
        _db.session.add(LedgerEntry(account_id=kept.id, kind=EntryKind.INTEREST,
                                    component=Component.INTEREST, amount=197,
                                    currency=kept.currency, effective_date=day,
                                    source_ref=f"nightly:{day}:interest"))
        day += timedelta(days=1)
    _db.session.commit()
    plan = make_active_plan(kept, [30_000] * 6, today_for(kept) + timedelta(days=5))
    dispute = raise_dispute(kept, description="The late fee of November was charged twice.")
    notice = make_notice(kept)
    return holder, kept, offered, plan, dispute, notice


def _pages(kept, offered, plan, dispute, notice) -> list[str]:
    return [
        "/home", f"/accounts/{kept.id}", f"/accounts/{kept.id}/history",
        f"/accounts/{kept.id}/timeline", f"/accounts/{kept.id}/notices",
        f"/accounts/{kept.id}/notices/{notice.id}", f"/accounts/{offered.id}",
        f"/accounts/{offered.id}/timeline",
        "/plans", f"/accounts/{kept.id}/plans", f"/accounts/{kept.id}/plans/{plan.id}",
        f"/accounts/{kept.id}/plans/{plan.id}/cancel", f"/accounts/{offered.id}/plans",
        f"/accounts/{kept.id}/plans/{plan.id}/change",
        f"/accounts/{kept.id}/plans/{plan.id}/change/review?kind=skip&seq=2",
        f"/accounts/{offered.id}/plans/offers", f"/accounts/{offered.id}/plans/propose",
        f"/accounts/{offered.id}/plans/hardship",
        "/pay", f"/accounts/{kept.id}/pay", f"/accounts/{kept.id}/autopay",
        "/disputes", f"/accounts/{kept.id}/disputes/new", f"/disputes/{dispute.id}",
        "/contact/preferences",
    ]


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_no_word_breaks_and_a_short_header_on_every_cardholder_page(page, make_cardholder,
                                                                    make_account, locale):
    page.goto("/login")
    _choose_language(page, locale)
    problems = []
    for path in ("/login", "/enrol", "/forgot"):
        problems += _measure(page, path)
    holder, kept, offered, plan, dispute, notice = _world(make_cardholder, make_account, locale)
    pages = _pages(kept, offered, plan, dispute, notice)
    _sign_in(page, holder.phone)
    for path in pages:
        problems += _measure(page, path)
    page.goto(f"/accounts/{offered.id}/plans/offers")  # the first offer's confirmation page
    problems += _measure(page, page.locator("section.offer a.button").first.get_attribute("href"))
    # Paying the plan ahead: the schedule an extra payment would leave, shown before paying.
    page.goto(f"/accounts/{kept.id}/pay")
    page.check("input[name=choice][value=other]")
    page.fill("#other_amount", "600.00")
    with page.expect_navigation():
        page.locator("#submit").click()
    assert page.locator("input[name=previewed]").count() == 1
    problems += word_break_problems(page, WIDTHS)
    # A payment's own pages: pay the overdue amount with the sandbox card.
    page.goto(f"/accounts/{kept.id}/pay")
    page.check("input[name=choice][value=overdue]")
    with page.expect_navigation():
        page.locator("#submit").click()
    page.fill("#card_number", "4242424242424242")
    page.fill("#expiry", "12/30")
    page.fill("#cvc", "123")
    with page.expect_navigation():
        page.locator("form button[type=submit], form input[type=submit]").last.click()
    payment_path = page.url.split("127.0.0.1", 1)[1].split(":", 1)[1]
    payment_path = payment_path[payment_path.index("/"):]
    problems += _measure(page, payment_path)
    problems += _measure(page, payment_path.rstrip("/") + "/receipt")
    assert not problems, "\n".join(problems)


def _measure(page, path: str) -> list[str]:
    """Problems on `path` at every width: broken words, and a phone header over the limit."""
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    return word_break_problems(page, WIDTHS)
