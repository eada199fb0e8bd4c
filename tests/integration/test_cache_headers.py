"""Responses with personal data, files included, are never stored by caches; static files are."""
from portal.extensions import db as _db
from tests.integration.plan_helpers import agree, spec


def test_a_plan_agreement_pdf_is_not_stored(app, client, login_as, make_account):
    account = make_account()
    with app.test_request_context():
        plan = agree(account, spec(count=3))
        _db.session.commit()
    login_as(client, account.cardholder)
    response = client.get(f"/accounts/{account.id}/plans/{plan.id}/agreement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_and_errors_are_not_stored_but_static_files_are_cacheable(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/no-such-page").headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
