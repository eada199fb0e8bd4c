"""The legal workspace list and account page: who is listed, in which order, with what, and in
a number of queries that does not grow with the page."""
from __future__ import annotations

from datetime import date

import pytest

from portal.extensions import db as _db
from portal.legal import services
from tests.helpers import statements_for
from tests.integration.legal_helpers import TODAY, freeze, late_account, refer


@pytest.fixture()
def legal(client, login_as, make_staff, monkeypatch, clock):
    freeze(clock)
    staff = make_staff("legal")
    login_as(client, staff)
    return staff


def _step(account, staff, kind="claim_filed", on=date(2026, 11, 20), amount=None):
    action = services.record_action(account, staff, services.StepInput(
        kind=kind, occurred_on=on, amount=amount), TODAY)
    _db.session.commit()
    return action


def test_lists_referred_accounts_newest_first_with_balance_and_last_step(
        client, legal, make_account, make_cardholder):
    older = late_account(make_account, make_cardholder(full_name="Wang Fang"),
                         account_number="6200000000000011")
    newer = late_account(make_account, make_cardholder(full_name="Li Lei"),
                         account_number="6200000000000022")
    by_step = late_account(make_account, make_cardholder(full_name="Zhao Min"),
                           account_number="6200000000000033")
    not_referred = late_account(make_account, make_cardholder(full_name="Sun Yu"),
                                account_number="6200000000000044")
    refer(older, on=date(2026, 10, 1))
    refer(newer, on=date(2026, 11, 1))
    _step(by_step, legal, "formal_notice_sent", on=date(2026, 10, 15))
    _step(older, legal, "claim_filed", on=date(2026, 11, 2), amount=1_000_000)
    page = client.get("/staff/legal").get_data(as_text=True)
    assert page.index("6200000000000022") < page.index("6200000000000033") \
        < page.index("6200000000000011")
    assert "6200000000000044" not in page and not_referred.cardholder.full_name not in page
    assert "Wang Fang" in page and "Claim filed" in page and "Formal notice sent" in page
    assert "¥12,350.00" in page  # total: 12,000 + 300 interest + 50 fees
    assert "¥3,000.00" in page  # overdue
    assert '<td class="num">150</td>' in page  # days late on 28 November, due 1 July


def test_a_corrected_step_is_not_the_last_step(client, legal, make_account):
    account = late_account(make_account)
    refer(account)
    _step(account, legal, "formal_notice_sent", on=date(2026, 11, 1))
    wrong = _step(account, legal, "judgment_entered", on=date(2026, 11, 5))
    services.correct_action(account, legal, wrong.id, "Wrong account.", TODAY)
    _db.session.commit()
    page = client.get("/staff/legal").get_data(as_text=True)
    assert "Formal notice sent" in page and "Judgment entered" not in page


def test_filter_by_profile(client, legal, make_account):
    cn = late_account(make_account, account_number="6200000000000055")
    us = late_account(make_account, account_number="4000000000000066", currency="USD",
                      profile="us")
    refer(cn)
    refer(us)
    page = client.get("/staff/legal?profile=us").get_data(as_text=True)
    assert "4000000000000066" in page and "6200000000000055" not in page
    bad = client.get("/staff/legal?profile=mars")
    assert bad.status_code == 422 and "Please correct the filters below." in bad.get_data(True)


def test_pages_of_25(client, legal, make_account):
    for n in range(27):
        refer(late_account(make_account, account_number=f"62000000001{n:05d}"),
              on=date(2026, 9, 1 + n))
    first = client.get("/staff/legal").get_data(as_text=True)
    assert "6200000000100026" in first and "6200000000100001" not in first
    assert 'rel="next"' in first
    second = client.get("/staff/legal?page=2").get_data(as_text=True)
    assert "6200000000100001" in second and "6200000000100026" not in second


def test_query_count_is_the_same_for_3_and_30_accounts(client, legal, make_account):
    def add():
        account = late_account(make_account)
        refer(account)
        _step(account, legal)
    for _ in range(3):
        add()
    few = statements_for(client, "/staff/legal")
    for _ in range(27):
        add()
    assert statements_for(client, "/staff/legal") == few


def test_account_page_shows_context_steps_and_the_form_for_legal_only(
        client, login_as, legal, make_account, make_staff):
    account = late_account(make_account)
    refer(account)
    _step(account, legal, "claim_filed", amount=1_000_000)
    page = client.get(f"/staff/legal/accounts/{account.id}").get_data(as_text=True)
    assert account.account_number in page and "Ledger" in page and "Record a legal step" in page
    assert "Claim filed" in page and "¥10,000.00" in page
    login_as(client, make_staff("collections_manager"))
    read_only = client.get(f"/staff/legal/accounts/{account.id}").get_data(as_text=True)
    assert "Claim filed" in read_only and "Record a legal step" not in read_only
    assert "Correct entry" not in read_only


def test_an_account_not_with_legal_is_not_found(client, legal, make_account):
    account = late_account(make_account)
    assert client.get(f"/staff/legal/accounts/{account.id}").status_code == 404
    assert client.get("/staff/legal/accounts/999999").status_code == 404
