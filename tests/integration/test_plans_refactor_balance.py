"""Choosing a plan reads the account's balance once per request: the offers page, a proposal,
the consent page and the consent itself each sum the ledger one time, not two or three."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import portal.balances.services as balances
from portal.balances.services import balance_of, today_for
from portal.extensions import db as _db
from portal.plans import services
from portal.plans.models import Plan, PlanStatus
from tests.helpers import token_in


@pytest.fixture()
def holder_account(make_account, make_cardholder):
    holder = make_cardholder()
    return holder, make_account(holder, principal=500_000, interest=20_000, fees=15_000)


@pytest.fixture()
def balance_reads(monkeypatch):
    """How many times the ledger was summed for a balance (every `balance_of` goes through
    `balances_for`)."""
    calls = []
    real = balances.balances_for

    def spy(accounts, as_of):
        calls.append([a.id for a in accounts])
        return real(accounts, as_of)

    monkeypatch.setattr(balances, "balances_for", spy)
    return calls




def _hidden(html, name):
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def test_offers_page_reads_the_balance_once(client, login_as, holder_account, balance_reads):
    holder, account = holder_account
    login_as(client, holder)
    balance_reads.clear()
    response = client.get(f"/accounts/{account.id}/plans/offers")
    assert response.status_code == 200 and "Settle now for" in response.get_data(as_text=True)
    assert balance_reads == [[account.id]]


def test_proposal_and_consent_read_the_balance_once_per_request_and_submit_again(client, login_as, holder_account,
                                                               balance_reads):
    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/propose")
    first = (today_for(account) + timedelta(days=7)).isoformat()
    balance_reads.clear()
    proposed = client.post(f"/accounts/{account.id}/plans/propose", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "mode": "amount", "amount": "250.00",
        "frequency": "monthly", "first_date": first})
    assert proposed.status_code == 302 and "count=22" in proposed.headers["Location"]
    assert balance_reads == [[account.id]]

    balance_reads.clear()
    consent_page = client.get(proposed.headers["Location"])
    html = consent_page.get_data(as_text=True)
    assert consent_page.status_code == 200 and "needs a review" in html
    assert balance_reads == [[account.id]]

    data = {k: _hidden(html, k) for k in ("kind", "count", "frequency", "first_date",
                                          "down_payment", "source", "statement", "terms_hash")}
    data.update(csrf_token=token_in(html), consent="y")
    balance_reads.clear()
    agreed = client.post(f"/accounts/{account.id}/plans/confirm", data=data)
    assert agreed.status_code == 302
    # The route's read (the terms asked for), then `submit`'s under the account's money lock:
    # a payment posted in between is priced in (test_plan_posting_race_postgres.py).
    assert balance_reads == [[account.id], [account.id]]
    assert _db.session.scalar(select(Plan)).status == PlanStatus.IN_REVIEW


def test_a_balance_of_another_day_is_refused_not_used(holder_account):
    _holder, account = holder_account
    today = today_for(account)
    yesterday = balance_of(account, today - timedelta(days=1))
    with pytest.raises(ValueError):
        services.owed_for(account, today, yesterday)
    with pytest.raises(ValueError):
        services.plan_policy(account, today, balance=yesterday)
    assert services.owed_for(account, today, balance_of(account, today)) == \
        services.owed_for(account, today)
