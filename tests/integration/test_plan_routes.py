"""Plan pages end to end through the test client: offers, consent, proposals, hardship,
review, counter-offer, cancel, agreement PDF and the risk editor."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.plans import endings
from portal.plans.models import Plan, PlanStatus, ProofDocument
from tests.helpers import token_in
from tests.integration.plan_helpers import TODAY, agree, spec
from tests.pdf_reading import not_embedded, pdf_text

def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture()
def holder_account(make_account, make_cardholder):
    holder = make_cardholder()
    account = make_account(holder, principal=500_000, interest=20_000, fees=15_000)
    return holder, account




def hidden(html, name):
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def consent_post(client, page, account_id):
    html = page.get_data(as_text=True)
    data = {k: hidden(html, k) for k in ("kind", "count", "frequency", "first_date",
                                         "down_payment", "source", "statement", "terms_hash")}
    data.update(csrf_token=token_in(html), consent="y")
    return client.post(f"/accounts/{account_id}/plans/confirm", data=data)


def test_offers_page_lists_envelope_offers_with_schedule(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert "Settle now for" in html and "6 payments of" in html
    assert "See the full schedule" in html and "saves you about" in html


def test_choosing_an_offer_needs_consent_and_records_it(client, login_as, holder_account, outbox):
    holder, account = holder_account
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    link = re.findall(r'href="(/accounts/\d+/plans/confirm\?[^"]+)"', html)[1].replace("&amp;", "&")
    page = client.get(link)
    assert "Read and agree to the terms" in page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    no_consent = client.post(f"/accounts/{account.id}/plans/confirm", data={
        k: hidden(html, k) for k in ("kind", "count", "frequency", "first_date", "down_payment",
                                     "source", "terms_hash")} | {"csrf_token": token_in(html)})
    assert no_consent.status_code == 422
    response = consent_post(client, page, account.id)
    assert response.status_code == 302
    plan = _db.session.scalar(select(Plan))
    assert plan.status == PlanStatus.ACTIVE and plan.accepted_user_agent is not None
    assert outbox()[-1]["subject"] == "Your repayment plan is agreed"
    pdf = client.get(f"/accounts/{account.id}/plans/{plan.id}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_tampered_terms_hash_is_refused(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    first = (today_for(account) + timedelta(days=7)).isoformat()
    page = client.get(f"/accounts/{account.id}/plans/confirm?kind=instalment&count=6"
                      f"&frequency=monthly&first_date={first}&down_payment=0&source=proposal")
    html = page.get_data(as_text=True).replace(hidden(page.get_data(as_text=True), "terms_hash"),
                                               "0" * 64)
    response = client.post(f"/accounts/{account.id}/plans/confirm", data={
        **{k: hidden(html, k) for k in ("kind", "count", "frequency", "first_date",
                                        "down_payment", "source", "terms_hash")},
        "csrf_token": token_in(html), "consent": "y"})
    assert response.status_code == 409
    assert _db.session.scalar(select(Plan)) is None


def test_proposal_outside_policy_shows_reason_and_nearest(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/propose")
    first = (today_for(account) + timedelta(days=7)).isoformat()
    response = client.post(f"/accounts/{account.id}/plans/propose", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "mode": "count", "count": "80",
        "frequency": "monthly", "first_date": first})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A plan can have at most 60 payments." in html
    assert "The nearest plan we can agree" in html


def test_i_can_pay_per_month_works_out_count_and_goes_to_review(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/propose")
    first = (today_for(account) + timedelta(days=7)).isoformat()
    response = client.post(f"/accounts/{account.id}/plans/propose", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "mode": "amount", "amount": "250.00",
        "frequency": "monthly", "first_date": first})
    assert response.status_code == 302 and "count=22" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "needs a review" in page.get_data(as_text=True)
    consent_post(client, page, account.id)
    assert _db.session.scalar(select(Plan)).status == PlanStatus.IN_REVIEW


def test_bad_amount_is_refused_with_a_message(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/propose")
    response = client.post(f"/accounts/{account.id}/plans/propose", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "mode": "amount", "amount": "1e5",
        "frequency": "monthly", "first_date": "2026-12-05"})
    assert response.status_code == 422
    assert "Enter an amount in numbers only" in response.get_data(as_text=True)


def test_hardship_form_suggests_affordable_plan_and_keeps_proof(client, login_as, holder_account,
                                                                document_backend):
    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/hardship")
    data = {"csrf_token": token_in(page.get_data(as_text=True)), "income": "8000", "housing": "3000",
            "utilities": "300", "food": "1500", "transport": "400", "childcare": "0",
            "other_debts": "500", "proof": [(__import__("io").BytesIO(PNG), "payslip.png")]}
    response = client.post(f"/accounts/{account.id}/plans/hardship", data=data,
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "A plan that fits" in html
    doc = _db.session.scalar(select(ProofDocument))
    assert doc.content_type == "image/png"
    assert client.get(f"/plans/proof/{doc.id}").data == PNG


def test_upload_that_is_not_pdf_jpeg_png_is_refused(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/hardship")
    response = client.post(f"/accounts/{account.id}/plans/hardship", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "income": "8000",
        "proof": [(__import__("io").BytesIO(b"MZ\x90\x00 not a pdf"), "payslip.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "is not a PDF, JPEG or PNG file" in response.get_data(as_text=True)


def _in_review(client, login_as, holder, account, count=24):
    login_as(client, holder)
    first = (today_for(account) + timedelta(days=7)).isoformat()
    page = client.get(f"/accounts/{account.id}/plans/confirm?kind=instalment&count={count}"
                      f"&frequency=monthly&first_date={first}&down_payment=0&source=proposal")
    consent_post(client, page, account.id)
    return _db.session.scalar(select(Plan))


def test_counter_offer_reaches_cardholder_who_accepts(app, login_as, holder_account, make_staff):
    holder, account = holder_account
    plan = _in_review(app.test_client(), login_as, holder, account)
    staff = app.test_client()
    login_as(staff, make_staff("collector"))
    page = staff.get(f"/staff/plans/{plan.id}")
    first = (today_for(account) + timedelta(days=7)).isoformat()
    response = staff.post(f"/staff/plans/{plan.id}/counter", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "kind": "instalment", "count": "18",
        "frequency": "monthly", "first_date": first, "discount_percent": "0",
        "reason": "Eighteen months keeps each payment affordable."})
    assert response.status_code == 302
    holder_client = app.test_client()
    login_as(holder_client, holder)
    page = holder_client.get(f"/accounts/{account.id}/plans/{plan.id}")
    html = page.get_data(as_text=True)
    assert "Eighteen months keeps" in html
    response = holder_client.post(f"/accounts/{account.id}/plans/{plan.id}/accept", data={
        "csrf_token": token_in(html), "terms_hash": hidden(html, "terms_hash"), "consent": "y"})
    _db.session.expire_all()
    assert _db.session.get(Plan, plan.id).status == PlanStatus.ACTIVE


def test_collector_crafted_approve_beyond_authority_is_refused(app, login_as, holder_account,
                                                                make_staff, make_account):
    holder, account = holder_account
    plan = _in_review(app.test_client(), login_as, holder, account, count=48)
    staff = app.test_client()
    login_as(staff, make_staff("collector"))
    page = staff.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    assert "beyond your approval authority" in page
    response = staff.post(f"/staff/plans/{plan.id}/approve", data={"csrf_token": token_in(page)})
    assert response.status_code == 403
    _db.session.expire_all()
    assert _db.session.get(Plan, plan.id).status == PlanStatus.IN_REVIEW
    manager = app.test_client()
    login_as(manager, make_staff("collections_manager"))
    page = manager.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    assert manager.post(f"/staff/plans/{plan.id}/approve",
                        data={"csrf_token": token_in(page)}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Plan, plan.id).status == PlanStatus.ACTIVE
    with app.test_request_context():  # another account's plan, agreed and then cancelled
        gone = agree(make_account(), spec(count=6))
        endings.cancel(gone, TODAY)
        _db.session.commit()
    agreed = manager.get("/staff/plans?status=active").get_data(as_text=True)
    assert f">#{plan.id}</a>" in agreed and f">#{gone.id}</a>" not in agreed
    cancelled = manager.get("/staff/plans?status=cancelled").get_data(as_text=True)
    assert f">#{gone.id}</a>" in cancelled and f">#{plan.id}</a>" not in cancelled


def test_reject_reason_is_shown_to_cardholder(app, login_as, holder_account, make_staff):
    holder, account = holder_account
    client = app.test_client()
    plan = _in_review(client, login_as, holder, account)
    staff = app.test_client()
    login_as(staff, make_staff("collector"))
    page = staff.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    staff.post(f"/staff/plans/{plan.id}/reject", data={"csrf_token": token_in(page),
                                                       "reason": "Please send a payslip."})
    html = client.get(f"/accounts/{account.id}/plans/{plan.id}").get_data(as_text=True)
    assert "Please send a payslip." in html


def test_cancel_shows_consequences_first(client, login_as, holder_account):
    holder, account = holder_account
    plan = _in_review(client, login_as, holder, account, count=6)
    assert plan.status == PlanStatus.ACTIVE
    page = client.get(f"/accounts/{account.id}/plans/{plan.id}/cancel")
    html = page.get_data(as_text=True)
    assert "start again" in html and "What you have paid stays paid." in html
    client.post(f"/accounts/{account.id}/plans/{plan.id}/cancel", data={"csrf_token": token_in(html)})
    _db.session.expire_all()
    assert _db.session.get(Plan, plan.id).status == PlanStatus.CANCELLED


def test_chinese_agreement_pdf(client, login_as, make_cardholder, make_account, embedded_fonts):
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder)
    client.set_cookie("portal_locale", "zh_Hans")
    plan = _in_review(client, login_as, holder, account, count=6)
    assert plan.terms_locale == "zh_Hans"
    pdf = client.get(f"/accounts/{account.id}/plans/{plan.id}/agreement.pdf")
    assert pdf.status_code == 200 and not_embedded(pdf.data) == []
    assert "还款计划协议" in pdf_text(pdf.data)


def test_risk_publishes_new_plan_limits_version(client, login_as, make_staff):
    login_as(client, make_staff("risk"))
    page = client.get("/staff/risk/plan-limits?profile=cn&advanced=1").get_data(as_text=True)
    import html as html_lib
    import json

    section = json.loads(html_lib.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page,
                                                     re.S).group(1)))
    section["limits"]["max_instalments"] = 48
    draft = {"csrf_token": token_in(page), "profile": "cn", "advanced": "1",
             "section": json.dumps(section), "effective_from": "2030-01-01",
             "note": "Shorter plans"}
    preview = client.post("/staff/risk/plan-limits", data={**draft, "preview": "1"})
    assert preview.status_code == 200 and "limits.max_instalments" in preview.get_data(as_text=True)
    fingerprint = re.search(r'name="draft"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="draft"',
                            preview.get_data(as_text=True))
    response = client.post("/staff/risk/plan-limits", data={
        **draft, "draft": fingerprint.group(1) or fingerprint.group(2), "confirm": "y",
        "publish": "1"})
    assert response.status_code == 302
    section["auto_approval"]["max_instalments"] = 50
    bad = client.post("/staff/risk/plan-limits", data={
        "csrf_token": token_in(page), "profile": "cn", "advanced": "1", "section": json.dumps(section),
        "effective_from": "2030-01-01"})
    assert bad.status_code == 422 and "envelope_wider" in bad.get_data(as_text=True)


def test_proof_whose_file_is_missing_is_404_not_an_error(client, login_as, holder_account, app,
                                                         document_backend):
    from portal.core.storage import document_store

    holder, account = holder_account
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/plans/hardship")
    data = {"csrf_token": token_in(page.get_data(as_text=True)), "income": "8000", "housing": "3000",
            "utilities": "300", "food": "1500", "transport": "400", "childcare": "0",
            "other_debts": "500", "proof": [(__import__("io").BytesIO(PNG), "payslip.png")]}
    client.post(f"/accounts/{account.id}/plans/hardship", data=data,
                content_type="multipart/form-data")
    doc = _db.session.scalar(select(ProofDocument))
    with app.test_request_context():
        document_store().delete(doc.stored_name)
    assert client.get(f"/plans/proof/{doc.id}").status_code == 404
