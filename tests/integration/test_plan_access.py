"""Who may open each plan page: anonymous, the owner, another cardholder, each staff role."""
from datetime import timedelta

import pytest

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.plans.models import HardshipStatement, ProofDocument
from tests.integration.plan_helpers import agree, spec

CARDHOLDER_GETS = [
    "/plans", "/accounts/{a}/plans", "/accounts/{a}/plans/offers", "/accounts/{a}/plans/propose",
    "/accounts/{a}/plans/hardship", "/accounts/{a}/plans/{p}", "/accounts/{a}/plans/{p}/cancel",
    "/accounts/{a}/plans/{p}/agreement.pdf",
    "/accounts/{a}/plans/confirm?kind=instalment&count=6&frequency=monthly&first_date={d}"
    "&down_payment=0&source=offer",
]
ACCOUNT_SCOPED = [u for u in CARDHOLDER_GETS if u != "/plans"]
CARDHOLDER_POSTS = ["/accounts/{a}/plans/{p}/accept", "/accounts/{a}/plans/{p}/decline",
                    "/accounts/{a}/plans/{p}/cancel", "/accounts/{a}/plans/confirm",
                    "/accounts/{a}/plans/propose", "/accounts/{a}/plans/hardship"]
REVIEW_GETS = ["/staff/plans/review", "/staff/plans/{p}", "/staff/plans"]
REVIEW_POSTS = ["/staff/plans/{p}/approve", "/staff/plans/{p}/counter", "/staff/plans/{p}/reject"]
ROLES = ["customer_service", "collector", "collections_manager", "risk", "legal", "admin"]


@pytest.fixture()
def world(app, make_account, make_cardholder):
    owner, other = make_cardholder(), make_cardholder()
    account = make_account(owner)
    make_account(other)
    with app.test_request_context():
        plan = agree(account, spec(first_date=today_for(account) + timedelta(days=7)),
                     today=today_for(account))
        statement = HardshipStatement(account_id=account.id, currency="CNY", income=1, plan_id=None)
        _db.session.add(statement)
        _db.session.flush()
        from portal.disputes.uploads import store

        doc = ProofDocument(statement_id=statement.id, original_name="p.pdf",
                            stored_name=store(b"%PDF-1.4 test"), content_type="application/pdf",
                            size_bytes=13, sha256="0" * 64)
        _db.session.add(doc)
        _db.session.commit()
    fill = dict(a=account.id, p=plan.id, d=(today_for(account) + timedelta(days=7)).isoformat())
    return dict(owner=owner, other=other, fill=fill, doc=doc.id)


def url(template, world):
    return template.format(**world["fill"])


@pytest.mark.parametrize("template", CARDHOLDER_GETS + REVIEW_GETS + ["/staff/risk/plan-limits"])
def test_anonymous_is_sent_to_sign_in(client, world, template):
    response = client.get(url(template, world))
    assert response.status_code == 302 and "login" in response.headers["Location"]


@pytest.mark.parametrize("template", CARDHOLDER_GETS)
def test_owner_can_open_every_cardholder_page(client, login_as, world, template):
    login_as(client, world["owner"])
    assert client.get(url(template, world)).status_code in (200, 302)


@pytest.mark.parametrize("template", ACCOUNT_SCOPED)
def test_another_cardholder_gets_404(client, login_as, world, template):
    login_as(client, world["other"])
    assert client.get(url(template, world)).status_code == 404


@pytest.mark.parametrize("template", CARDHOLDER_POSTS)
def test_another_cardholder_cannot_post_either(client, login_as, world, template):
    login_as(client, world["other"])
    client.get("/plans")
    assert client.post(url(template, world), data={}).status_code in (400, 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", REVIEW_GETS)
def test_review_pages_only_for_collectors_and_managers(client, login_as, make_staff, world,
                                                      role, template):
    login_as(client, make_staff(role))
    expected = 200 if role in ("collector", "collections_manager") else 403
    assert client.get(url(template, world)).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_risk_editor_only_for_risk(client, login_as, make_staff, world, role):
    login_as(client, make_staff(role))
    expected = 200 if role == "risk" else 403
    assert client.get("/staff/risk/plan-limits").status_code == expected


@pytest.mark.parametrize("template", REVIEW_GETS + ["/staff/risk/plan-limits"])
def test_cardholder_cannot_open_staff_pages(client, login_as, world, template):
    login_as(client, world["owner"])
    assert client.get(url(template, world)).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_staff_cannot_open_cardholder_plan_pages(client, login_as, make_staff, world, role):
    login_as(client, make_staff(role))
    assert client.get(url("/accounts/{a}/plans/{p}", world)).status_code == 403


@pytest.mark.parametrize("who,expected", [
    ("anonymous", 404), ("owner", 200), ("other", 404), ("collector", 200),
    ("collections_manager", 200), ("customer_service", 403), ("risk", 403), ("admin", 403)])
def test_proof_served_only_to_owner_and_staff_who_need_it(document_backend, client, login_as,
                                                          make_staff, world, who, expected):
    if who in ("owner", "other"):
        login_as(client, world[who])
    elif who != "anonymous":
        login_as(client, make_staff(who))
    assert client.get(f"/plans/proof/{world['doc']}").status_code == expected


@pytest.mark.parametrize("template", REVIEW_POSTS)
def test_review_posts_refused_for_customer_service(client, login_as, make_staff, world, template):
    login_as(client, make_staff("customer_service"))
    assert client.post(url(template, world), data={}).status_code in (400, 403)
