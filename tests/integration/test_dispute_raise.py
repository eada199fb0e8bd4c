"""Raising a dispute: routing, validation, the collection hold, uploads and who gets the files."""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.consequences.pauses import escalation_pause
from portal.disputes import holds
from portal.domain.dates import local_date
from portal.timeutil import as_aware
from portal.disputes.models import Dispute, DisputeAttachment
from portal.disputes.services import DisputeRefused
from portal.disputes.uploads import MAX_BYTES, UploadRefused
from portal.extensions import db as _db
from tests.dispute_helpers import PDF, csrf, jpeg_bytes, join, png_bytes, raise_dispute
from tests.clock import TODAY  # 28 November 2026



def post_new(client, account, **fields):
    data = {"csrf_token": csrf(client, f"/accounts/{account.id}/disputes/new"),
            "category": "wrong_amount", "amount": "", "description": "Charged twice."}
    data.update(fields)
    return client.post(f"/accounts/{account.id}/disputes/new", data=data,
                       content_type="multipart/form-data")


def test_cardholder_raises_a_dispute_with_a_pdf_and_sees_it(client, login_as, make_account,
                                                            make_staff, outbox):
    account = make_account(principal=500_000)
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    login_as(client, account.cardholder)
    response = post_new(client, account, amount="120.50",
                        attachments=[(io.BytesIO(PDF), "statement.pdf")])
    assert response.status_code == 302
    dispute = _db.session.scalars(select(Dispute)).one()
    assert dispute.contested_amount == 12_050 and dispute.queue.code == "billing"
    assert dispute.assignee_id == agent.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Charged twice." in page and "statement.pdf" in page and "Received" in page
    assert "We will answer by" in page
    assert [m["subject"] for m in outbox()] == [f"Your dispute D-{dispute.id}: Received"]
    assert _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dispute.raised"))


@pytest.mark.parametrize("amount,message", [
    ("6000.01", "cannot be more than what the account shows as owed"),
    ("-5", "Enter an amount of zero or more."),
    ("12.345", "no more decimal places than the currency has"),
    ("0", "must be more than zero"),
    ("", "Enter the amount you are disputing"),
])
def test_contested_amount_must_be_positive_and_within_the_balance(client, login_as,
                                                                  make_account, amount, message):
    account = make_account(principal=500_000, fees=100_000)  # 6000.00 outstanding
    login_as(client, account.cardholder)
    response = post_new(client, account, amount=amount)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _db.session.scalars(select(Dispute)).all() == []


def test_whole_outstanding_balance_may_be_contested(client, login_as, make_account):
    account = make_account(principal=500_000, fees=100_000)
    login_as(client, account.cardholder)
    assert post_new(client, account, amount="6000.00").status_code == 302


def test_not_my_debt_without_an_amount_contests_the_whole_balance(make_account):
    account = make_account(principal=500_000, interest=20_000)
    dispute = raise_dispute(account, "not_my_debt", amount=None)
    assert dispute.contested_amount == 520_000 and dispute.queue.code == "fraud"


def test_chosen_ledger_entries_set_the_contested_amount(make_account, db):
    account = make_account(principal=500_000, fees=30_000)
    fee = next(e for e in __import__("portal.disputes.services", fromlist=["x"])
               .contestable_entries(account) if e.component.value == "fee")
    dispute = raise_dispute(account, "wrong_amount", amount=None, entry_ids=[fee.id])
    assert dispute.contested_amount == 30_000
    assert [link.ledger_entry_id for link in dispute.entries] == [fee.id]


def test_another_accounts_entries_are_refused(make_account):
    mine, other = make_account(), make_account(fees=30_000)
    theirs = __import__("portal.disputes.services", fromlist=["x"]).contestable_entries(other)
    with pytest.raises(DisputeRefused):
        raise_dispute(mine, "wrong_amount", amount=None, entry_ids=[theirs[0].id])


def test_conduct_and_hardship_carry_no_amount_and_no_hold(make_account):
    account = make_account()
    conduct = raise_dispute(account, "conduct_complaint", amount=5_000,
                            description="Called at midnight.")
    hardship = raise_dispute(account, "hardship_other", amount=None)
    assert conduct.contested_amount is None and conduct.queue.code == "conduct"
    assert hardship.queue.code == "hardship"
    assert escalation_pause(account, TODAY) is None
    assert not holds.on_hold(account, TODAY)


def test_open_contesting_dispute_pauses_escalation_for_the_contested_amount(make_account):
    account = make_account()
    assert escalation_pause(account, TODAY) is None
    dispute = raise_dispute(account, "already_paid", amount=25_000)
    raised_on = local_date(as_aware(dispute.created_at), "Asia/Shanghai")  # the cardholder's day
    as_of = raised_on + timedelta(days=1)
    assert escalation_pause(account, raised_on - timedelta(days=1)) is None
    pause = escalation_pause(account, as_of)
    assert pause.reason == "dispute" and pause.amount == 25_000
    assert pause.reference == str(dispute.id) and pause.since == raised_on
    assert holds.on_hold(account, as_of)
    assert holds.accounts_on_hold([account.id, account.id + 999]) == {account.id}


def test_hold_covers_every_open_contesting_dispute(make_account):
    account = make_account()
    raise_dispute(account, "already_paid", amount=25_000)
    raise_dispute(account, "wrong_amount", amount=5_000)
    assert escalation_pause(account, date(2030, 1, 1)).amount == 30_000


def test_another_accounts_dispute_does_not_hold_this_one(make_account):
    account, other = make_account(), make_account()
    raise_dispute(other, "already_paid", amount=25_000)
    assert escalation_pause(account, date(2030, 1, 1)) is None


# --- uploads ------------------------------------------------------------------------------

def test_file_named_pdf_that_is_not_a_pdf_is_refused(client, login_as, make_account):
    account = make_account()
    login_as(client, account.cardholder)
    response = post_new(client, account, amount="10",
                        attachments=[(io.BytesIO(b"MZ\x90\x00 not a pdf"), "receipt.pdf")])
    assert response.status_code == 400
    assert "is not a PDF, JPEG or PNG file" in response.get_data(as_text=True)
    assert _db.session.scalars(select(Dispute)).all() == []


def test_png_header_with_broken_image_data_is_refused(make_account):
    bogus = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    with pytest.raises(UploadRefused):
        raise_dispute(make_account(), files=[_storage(bogus, "photo.png")])


def test_file_over_ten_megabytes_is_refused(client, login_as, make_account):
    account = make_account()
    login_as(client, account.cardholder)
    big = PDF + b"0" * MAX_BYTES
    response = post_new(client, account, amount="10", attachments=[(io.BytesIO(big), "big.pdf")])
    assert response.status_code == 400
    assert "larger than 10 MB" in response.get_data(as_text=True)


def test_six_files_are_refused(client, login_as, make_account):
    account = make_account()
    login_as(client, account.cardholder)
    files = [(io.BytesIO(PDF), f"page{i}.pdf") for i in range(6)]
    response = post_new(client, account, amount="10", attachments=files)
    assert response.status_code == 400
    assert "at most 5 files" in response.get_data(as_text=True)


def test_five_files_of_each_kind_are_accepted(make_account):
    files = [_storage(PDF, "a.pdf"), _storage(png_bytes(), "b.png"),
             _storage(jpeg_bytes(), "c.jpg"), _storage(PDF, "d"), _storage(png_bytes(), "e.PNG")]
    dispute = raise_dispute(make_account(), files=files)
    assert [a.content_type for a in dispute.attachments] == [
        "application/pdf", "image/png", "image/jpeg", "application/pdf", "image/png"]


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "folder/statement.pdf",
                                  "C:\\Users\\me\\statement.pdf", "bad\x00name.pdf",
                                  "new\nline.pdf"])
def test_file_names_with_path_parts_or_control_characters_are_refused(app, make_account, name):
    with pytest.raises(UploadRefused) as excinfo:
        raise_dispute(make_account(), files=[_storage(PDF, name)])
    with app.test_request_context():
        assert "folder names or hidden characters" in str(excinfo.value)


def test_path_in_name_is_refused_with_a_clear_message_on_the_page(client, login_as,
                                                                   make_account):
    account = make_account()
    login_as(client, account.cardholder)
    # the test client would strip the folder; send the raw multipart name instead
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{csrf(client, f'/accounts/{account.id}/disputes/new')}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\n"
            f"wrong_amount\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"amount\""
            f"\r\n\r\n10\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"description\""
            f"\r\n\r\nx\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; "
            f"filename=\"../secret.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    body += PDF + f"\r\n--{boundary}--\r\n".encode()
    response = client.post(f"/accounts/{account.id}/disputes/new", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert "folder names or hidden characters" in response.get_data(as_text=True)


def test_files_are_stored_outside_static_under_a_random_name(app, make_account):
    dispute = raise_dispute(make_account(), files=[_storage(PDF, "statement.pdf")])
    stored = dispute.attachments[0]
    assert "statement" not in stored.stored_name and len(stored.stored_name) == 32
    import os

    path = os.path.join(app.config["UPLOAD_DIR"], stored.stored_name)
    with open(path, "rb") as fh:
        assert fh.read() == PDF
    assert not os.path.abspath(path).startswith(os.path.abspath(app.static_folder))


def test_owner_downloads_an_attachment_as_a_file_with_its_checked_type(client, login_as,
                                                                        make_account,
                                                                        document_backend):
    account = make_account()
    dispute = raise_dispute(account, files=[_storage(png_bytes(), "photo.pdf")])
    attachment = dispute.attachments[0]
    login_as(client, account.cardholder)
    response = client.get(f"/disputes/{dispute.id}/files/{attachment.id}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"  # by content, not by the .pdf name
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_attachment_of_another_dispute_is_not_found(client, login_as, make_account,
                                                     document_backend):
    account = make_account()
    first = raise_dispute(account, files=[_storage(PDF, "a.pdf")])
    second = raise_dispute(account)
    login_as(client, account.cardholder)
    aid = first.attachments[0].id
    assert client.get(f"/disputes/{second.id}/files/{aid}").status_code == 404
    assert client.get(f"/disputes/{first.id}/files/{aid + 100}").status_code == 404


def _storage(content, name):
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(content), filename=name)


def test_attachment_rows_record_size_and_original_name(make_account):
    dispute = raise_dispute(make_account(), files=[_storage(PDF, "Kontoauszug ü.pdf")])
    row = _db.session.scalars(select(DisputeAttachment)).one()
    assert (row.original_name, row.size, row.dispute_id) == ("Kontoauszug ü.pdf", len(PDF),
                                                             dispute.id)
