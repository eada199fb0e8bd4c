"""Notices: the list, the letter as a page and as a PDF, in the reader's language, owner only."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.integration.account_pages_helpers import (
    STAFF_ROLES, freeze_today, make_notice, use_timeline,
)
from tests.pdf_reading import not_embedded, pdf_text


@pytest.fixture()
def account(make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch, build=lambda account: None)
    return make_account(oldest_unpaid_due_date=date(2026, 10, 1), card_last4="4242")


@pytest.fixture()
def notice(account):
    return make_notice(account)


def urls(account, notice):
    return (f"/accounts/{account.id}/notices/{notice.id}",
            f"/accounts/{account.id}/notices/{notice.id}.pdf")


# --- access ---------------------------------------------------------------------------------

@pytest.mark.parametrize("which", (0, 1))
def test_anonymous_visitor_is_sent_to_sign_in(client, account, notice, which):
    response = client.get(urls(account, notice)[which])
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("which", (0, 1))
def test_owner_can_read_and_download_a_notice(client, login_as, account, notice, which):
    login_as(client, account.cardholder)
    assert client.get(urls(account, notice)[which]).status_code == 200


@pytest.mark.parametrize("which", (0, 1))
def test_another_cardholder_gets_not_found(client, login_as, make_cardholder, account, notice,
                                           which):
    login_as(client, make_cardholder())
    assert client.get(urls(account, notice)[which]).status_code == 404


@pytest.mark.parametrize("which", (0, 1))
def test_a_notice_of_another_account_is_not_found_under_my_account(
        client, login_as, make_account, account, which):
    stranger_notice = make_notice(make_account(), reference="FN-OTHER")
    login_as(client, account.cardholder)
    path = urls(account, stranger_notice)[which]
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("which", (0, 1))
def test_staff_cannot_open_cardholder_notices(client, login_as, make_staff, account, notice,
                                              role, which):
    login_as(client, make_staff(role))
    assert client.get(urls(account, notice)[which]).status_code == 403


# --- content --------------------------------------------------------------------------------

def test_notice_list_shows_amount_pay_by_date_and_both_formats(client, login_as, account, notice):
    make_notice(account, reference="RM-2026-000001", kind="reminder",
                issued_on=date(2026, 11, 2), days_late=32)
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/notices").get_data(as_text=True)
    assert "Formal notice about your overdue account" in page
    assert "Reminder about your overdue account" in page
    assert page.index("FN-2026-000123") < page.index("RM-2026-000001")  # newest first
    assert "CN¥500.00" in page and "December 11, 2026" in page
    assert f"/accounts/{account.id}/notices/{notice.id}.pdf" in page


def test_notice_list_says_when_there_are_none(client, login_as, account):
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/notices").get_data(as_text=True)
    assert "We have not sent any formal letters about this account." in page


def test_notice_page_restates_amount_date_and_how_to_object(client, login_as, account, notice):
    login_as(client, account.cardholder)
    page = client.get(urls(account, notice)[0]).get_data(as_text=True)
    assert "Please pay CN¥500.00 by December 11, 2026" in page
    assert "On November 27, 2026 your account was 57 days late." in page
    assert "If you disagree" in page and "raise a dispute" in page
    assert "send any evidence you have" in page
    assert f"Dear {account.cardholder.full_name}," in page


def test_notice_page_in_chinese_formats_amounts_and_dates_for_the_reader(
        client, login_as, make_cardholder, make_account, monkeypatch, clock):
    freeze_today(clock)
    holder = make_cardholder(locale="zh_Hans", full_name="张伟")
    account = make_account(holder)
    notice = make_notice(account)
    login_as(client, holder)
    page = client.get(urls(account, notice)[0]).get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "张伟" in page
    assert "¥500.00" in page and "CN¥" not in page and "2026年12月11日" in page


def test_pdf_download_is_an_attachment_with_a_safe_name_and_the_amount(client, login_as,
                                                                       account):
    notice = make_notice(account, reference='FN/2026 "x"\r\n.pdf')
    login_as(client, account.cardholder)
    response = client.get(urls(account, notice)[1])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    name = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert re.fullmatch(r"notice-[A-Za-z0-9._-]+\.pdf", name) and ".." not in name
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    assert "500.00" in text and "December 11, 2026" in text


def test_pdf_in_chinese_embeds_its_chinese_font(client, login_as, make_cardholder, make_account,
                                               monkeypatch, clock, embedded_fonts):
    freeze_today(clock)
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder)
    notice = make_notice(account)
    login_as(client, holder)
    response = client.get(urls(account, notice)[1])
    assert response.data.startswith(b"%PDF") and not_embedded(response.data) == []
    assert "尾号" in pdf_text(response.data)
