"""Transaction history: plain descriptions, filters that say when they fail, pages, query count."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from tests.integration.account_pages_helpers import freeze_today, use_timeline


def add_entries(account, count, *, kind=EntryKind.INTEREST, component=Component.INTEREST,
                amount=123, start=date(2026, 11, 2)):
    for i in range(count):
        _db.session.add(LedgerEntry(
            account_id=account.id, kind=kind, component=component, amount=amount,
            currency=account.currency, effective_date=start + timedelta(days=i % 26),
            source_ref=f"{kind.value}:{start}:{i}"))
    _db.session.commit()


def rows(page: str) -> list[str]:
    """The text of each row in the history table, tags removed."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in body.split("</tr>")[:-1]]


@pytest.fixture()
def account(make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch, build=lambda account: None)
    return make_account(principal=500_000, fees=0, effective=date(2026, 11, 1))


@pytest.fixture()
def signed_in(client, login_as, account):
    login_as(client, account.cardholder)
    return client


def history(client, account, **args):
    response = client.get(f"/accounts/{account.id}/history", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_entries_have_plain_language_descriptions(signed_in, account):
    for kind, component, amount in [
        (EntryKind.FEE, Component.FEE, 5_000), (EntryKind.PAYMENT, Component.PRINCIPAL, -20_000),
        (EntryKind.WAIVER, Component.FEE, -5_000), (EntryKind.ADJUSTMENT, Component.PRINCIPAL, 100),
        (EntryKind.REVERSAL, Component.PRINCIPAL, 20_000),
    ]:
        add_entries(account, 1, kind=kind, component=component, amount=amount)
    page = history(signed_in, account)
    text = " ".join(rows(page))
    for label in ("Balance from your statement", "Late fee", "Payment received", "Amount waived",
                  "Balance adjustment", "Correction of an earlier entry"):
        assert label in text
    assert "-CN¥200.00" in text and "CN¥5,000.00" in text
    assert "statement_balance" not in text and "waiver" not in text


def test_history_in_chinese_uses_chinese_descriptions_and_dates(client, login_as, make_cardholder,
                                                               make_account, monkeypatch, clock):
    freeze_today(clock)
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder, principal=500_000)
    login_as(client, holder)
    page = history(client, account)
    assert 'lang="zh-Hans"' in page
    assert "2026年11月1日" in page and "¥5,000.00" in page


def test_newest_entries_come_first_twenty_to_a_page(signed_in, account):
    add_entries(account, 45, start=date(2026, 11, 2))  # 45 interest + 1 statement entry
    first = rows(history(signed_in, account))
    assert len(first) == 20
    assert first[0].startswith("Nov 27, 2026")
    third = rows(history(signed_in, account, page=3))
    assert len(third) == 6
    assert third[-1].startswith("Nov 1, 2026") and "statement" in third[-1]


def test_pagination_links_keep_the_filter(signed_in, account):
    add_entries(account, 30, kind=EntryKind.INTEREST)
    page = history(signed_in, account, kind="interest")
    assert "Older entries" in page and "Newer entries" not in page
    link = re.search(r'href="([^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "kind=interest" in link
    second = signed_in.get(link).get_data(as_text=True)
    assert len(rows(second)) == 10 and "Newer entries" in second


def test_filter_by_kind_shows_only_that_kind(signed_in, account):
    add_entries(account, 3, kind=EntryKind.FEE, component=Component.FEE, amount=5_000)
    add_entries(account, 4)
    page = history(signed_in, account, kind="fee")
    assert "Showing only the entries that match your filter." in page
    assert len(rows(page)) == 3 and all("Late fee" in r for r in rows(page))


def test_filter_by_date_range_includes_both_ends(signed_in, account):
    add_entries(account, 10, start=date(2026, 11, 2))  # 2..11 November
    page = history(signed_in, account, date_from="2026-11-04", date_to="2026-11-06")
    assert [r.split(" 2026")[0] for r in rows(page)] == [
        "Nov 6,", "Nov 5,", "Nov 4,"]


def test_bad_date_is_explained_and_no_list_pretends_to_be_filtered(signed_in, account):
    add_entries(account, 3)
    page = history(signed_in, account, date_from="31/11/2026")
    assert "The filter could not be applied. Please correct the highlighted fields." in page
    assert "Enter a date like 2026-11-28." in page
    assert 'aria-invalid="true"' in page
    assert rows(page) == [] and "Showing only the entries" not in page


def test_end_date_before_start_date_is_refused(signed_in, account):
    page = history(signed_in, account, date_from="2026-11-10", date_to="2026-11-01")
    assert "The end date must be on or after the start date." in page
    assert rows(page) == []


def test_unknown_kind_is_refused(signed_in, account):
    page = history(signed_in, account, kind="M2")
    assert "Choose a type from the list." in page and rows(page) == []


def test_no_match_says_so(signed_in, account):
    page = history(signed_in, account, kind="waiver")
    assert "No entries match your filter." in page


def test_query_count_does_not_grow_with_the_number_of_entries(client, login_as, make_account,
                                                              monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch, build=lambda account: None)
    small = make_account()
    big = make_account(small.cardholder)
    add_entries(small, 5)
    add_entries(big, 60)
    login_as(client, small.cardholder)

    def statements_for(account_id):
        seen = []
        def listener(conn, cursor, statement, params, context, executemany):
            seen.append(statement)
        event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            response = client.get(f"/accounts/{account_id}/history")
        finally:
            event.remove(_db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        return len(seen)

    small_id, big_id = small.id, big.id
    statements_for(small_id)  # warm-up: the first request loads what every request loads
    assert statements_for(small_id) == statements_for(big_id)


@pytest.mark.parametrize("asked", ["99999999999999999999", str(2**63), "100001", "4"])
def test_a_page_past_the_end_shows_the_last_page(signed_in, account, asked):
    add_entries(account, 45)  # 46 entries: pages of 20, 20 and 6
    page = history(signed_in, account, page=asked)
    assert len(rows(page)) == 6 and "statement" in rows(page)[-1]
    assert "Newer entries" in page and "Older entries" not in page
    link = re.search(r'rel="prev" href="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert "page=2" in link


@pytest.mark.parametrize("asked", ["0", "-3", "abc", "1.5", "", "9" * 5000])
def test_a_page_number_that_is_not_a_page_shows_the_first_page(signed_in, account, asked):
    add_entries(account, 45)
    page = history(signed_in, account, page=asked)
    assert len(rows(page)) == 20 and rows(page)[0].startswith("Nov 27, 2026")
    assert "Newer entries" not in page


def test_a_far_page_of_a_filtered_or_empty_list_is_never_an_error(signed_in, account):
    page = history(signed_in, account, kind="waiver", page="99999999999999999999")
    assert "No entries match your filter." in page
    add_entries(account, 30, kind=EntryKind.INTEREST)
    page = history(signed_in, account, kind="interest", page="99999999999999999999")
    assert len(rows(page)) == 10 and all("Interest charged" in r for r in rows(page))
    link = re.search(r'rel="prev" href="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert "kind=interest" in link and "page=1" in link
