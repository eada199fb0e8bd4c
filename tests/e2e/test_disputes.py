"""Disputes in a real browser: a cardholder raises one with an attachment and replies at phone
size; an agent works the queue and resolves at desktop size; both languages; axe on each page."""
from __future__ import annotations

import re

import pytest

from portal.disputes.models import Dispute
from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD
from tests.dispute_helpers import PDF, join, raise_dispute
from tests.e2e.helpers import check_page, expect_path, submit
from tests.e2e.helpers import sign_in_staff as _staff_sign_in  # others import it from here

LANGS = [("en", "en"), ("zh_Hans", "zh-Hans")]


def _sign_in(page, phone):
    page.goto("/login")
    page.fill("#identity", phone)
    page.fill("#password", CARDHOLDER_PASSWORD)
    submit(page, "identity")
    expect_path(page, "/home")




def _choose_language(page, locale):
    if locale != "en":
        page.select_option("#lang-select", locale)
        with page.expect_navigation():
            page.locator("form.lang-picker button[type=submit]").click()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_cardholder_raises_a_dispute_with_a_pdf_and_replies_on_a_phone(
        page, make_cardholder, make_account, make_staff, tmp_path, locale, lang):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=500_000)
    join("billing", make_staff("customer_service"), "en", "zh_Hans")
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    _sign_in(page, holder.phone)
    assert page.get_attribute("html", "lang") == lang

    page.goto("/disputes")
    check_page(page)
    page.locator(f"a[href='/accounts/{account.id}/disputes/new']").click()
    expect_path(page, f"/accounts/{account.id}/disputes/new")
    check_page(page)
    page.select_option("#category", "already_paid")
    page.fill("#amount", "120.50")
    page.fill("#description", "I paid this on 30 October at the bank.")
    page.set_input_files("#attachments", str(receipt))
    submit(page, "description")
    dispute = _db.session.query(Dispute).one()
    expect_path(page, f"/disputes/{dispute.id}")
    assert page.get_by_text("I paid this on 30 October at the bank.").is_visible()
    assert page.locator("a", has_text="receipt.pdf").is_visible()
    check_page(page)

    page.fill("#body", "Here is the bank's stamp as well.")
    page.set_input_files("#attachments", str(receipt))
    submit(page, "body")
    expect_path(page, f"/disputes/{dispute.id}")
    assert page.get_by_text("Here is the bank's stamp as well.").is_visible()
    assert page.locator("a", has_text="receipt.pdf").count() == 2
    check_page(page)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_wrong_file_type_is_explained_on_the_page(page, make_cardholder, make_account,
                                                  tmp_path):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    account = make_account(holder)
    fake = tmp_path / "statement.pdf"
    fake.write_bytes(b"this is plain text, not a PDF")
    _sign_in(page, holder.phone)
    page.goto(f"/accounts/{account.id}/disputes/new")
    page.fill("#amount", "10")
    page.fill("#description", "Wrong fee.")
    page.set_input_files("#attachments", str(fake))
    submit(page, "description")
    assert page.get_by_text("is not a PDF, JPEG or PNG file").is_visible()
    check_page(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("locale,lang", LANGS)
def test_agent_works_the_queue_and_resolves_at_desktop_size(page, make_account, make_staff,
                                                            locale, lang):
    agent = make_staff("customer_service", name="Chen Jing")
    join("billing", agent, "en", "zh_Hans")
    account = make_account(principal=500_000)
    dispute = raise_dispute(account, amount=30_000, description="The fee is wrong.")
    _staff_sign_in(page, agent)
    _choose_language(page, locale)

    page.goto("/staff/disputes/?view=mine")
    assert page.get_attribute("html", "lang") == lang
    check_page(page)
    page.locator("a", has_text=f"D-{dispute.id}").first.click()
    expect_path(page, f"/staff/disputes/{dispute.id}")
    check_page(page)

    page.select_option("#msg-kind", "note")
    page.fill("#msg-body", "Duplicate of the October fee.")
    submit(page, "msg-body")
    page.select_option("#res-outcome", "partly")
    page.fill("#res-amount", "100.00")
    page.fill("#res-reason", "One of the two fees was charged in error.")
    submit(page, "res-reason")
    expect_path(page, f"/staff/disputes/{dispute.id}")
    _db.session.expire_all()
    done = _db.session.get(Dispute, dispute.id)
    assert done.status.value == "resolved_partly" and done.resolution_amount == 10_000
    assert page.locator(".flash-success").count() == 1
    check_page(page)

    # Closed disputes have their own tab, listed page by page (issue 13, item 13)
    page.goto("/staff/disputes/?view=mine")
    with page.expect_navigation():
        page.get_by_role("link", name="已结束的争议" if locale == "zh_Hans" else "Closed disputes").click()
    assert page.get_by_role("link", name=f"D-{dispute.id}").is_visible()
    check_page(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_manager_routing_pages_are_accessible(page, make_staff):
    manager = make_staff("collections_manager")
    _staff_sign_in(page, manager)
    for path in ("/staff/disputes/setup/rules", "/staff/disputes/setup/queues",
                 "/staff/disputes/?view=queue"):
        response = page.goto(path)
        assert response.status == 200, path
        check_page(page)
    page.goto("/staff/disputes/setup/rules")
    page.fill("#priority", "5")
    page.select_option("#category", "wrong_amount")
    page.fill("#currency", "CNY")
    page.fill("#min_amount", "1000.00")
    submit(page, "priority")
    expect_path(page, "/staff/disputes/setup/rules")
    assert re.search(r"1,000\.00", page.content())
