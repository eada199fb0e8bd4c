"""The hardship suggestion states a schedule with a down payment as it is: one payment up front
and then the rest, never "13 payments" of the regular amount beside the amount up front
(issue 13, item 9)."""
from __future__ import annotations

import re
from datetime import date

from tests.helpers import token_in


def _facts(html: str) -> dict[str, str]:
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.S)
    return {label.strip(): re.sub(r"\s+", " ", value).strip() for label, value in pairs}


def test_suggestion_with_a_down_payment_counts_it_once(client, login_as, make_account):
    # 119 days past due (stage m3): the cn profile asks for 5% down.
    account = make_account(principal=3_500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=date(2026, 8, 1))
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/plans/hardship").get_data(as_text=True)
    response = client.post(f"/accounts/{account.id}/plans/hardship", data={
        "csrf_token": token_in(page), "income": "8000", "housing": "3000", "utilities": "300",
        "food": "1500", "transport": "400", "childcare": "0", "other_debts": "500"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "A plan that fits" in html
    facts = _facts(html)
    assert "First payment up front" in facts, facts
    rows = re.findall(r"<tr><td>(\d+)</td>", html)
    total = len(rows)
    assert facts["Number of payments"] == f"{total} in all: 1 up front, then {total - 1}"
    assert "Each payment" not in facts and "Each payment after that" in facts


def test_offer_heading_with_a_down_payment_names_it_apart(client, login_as, make_account):
    account = make_account(principal=3_500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=date(2026, 8, 1))
    login_as(client, account.cardholder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    headings = re.findall(r"<h2>(.*?)</h2>", html, re.S)
    instalment = [h for h in headings if "payments of" in h]
    assert instalment, headings
    for heading in instalment:
        counts = re.search(r"up front, then (\d+) payments of", heading)
        assert counts, heading
