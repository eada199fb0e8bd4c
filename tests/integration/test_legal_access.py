"""Who may open the legal workspace: legal records, collections managers read, other staff and
every cardholder (the account's owner too) are refused, nobody signed in is sent to sign in."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.legal import services
from portal.legal.models import LegalAction
from tests.access_fixtures import csrf_fields
from tests.integration.legal_helpers import TODAY, freeze, late_account, refer

ROLES = ("customer_service", "collector", "collections_manager", "risk", "legal", "admin")
READ = {"legal", "collections_manager"}


@pytest.fixture()
def world(make_cardholder, make_account, make_staff, monkeypatch, clock):
    freeze(clock)
    owner = make_cardholder(password="Correct-Horse-42")
    account = late_account(make_account, owner)
    refer(account)
    step = services.record_action(account, make_staff("legal"), services.StepInput(
        kind="claim_filed", occurred_on=date(2026, 11, 1)), TODAY)
    _db.session.commit()
    base = f"/staff/legal/accounts/{account.id}"
    return {"owner": owner, "other": make_cardholder(password="Correct-Horse-42"),
            "account": account, "pages": ["/staff/legal", "/staff/legal/", base,
                                          f"{base}/actions/{step.id}/correct"],
            "posts": [f"{base}/actions", f"{base}/actions/{step.id}/correct"]}


def _count():
    return _db.session.scalar(select(func.count(LegalAction.id)))


def test_anonymous_is_sent_to_staff_sign_in(client, world):
    for path in world["pages"]:
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    for path in world["posts"]:
        response = client.post(path, data={**csrf_fields(client), "reason": "x"})
        assert "/staff/login" in response.headers["Location"]
    assert _count() == 1


@pytest.mark.parametrize("who", ["owner", "other"])
def test_cardholders_even_the_owner_are_refused(client, login_as, world, who):
    login_as(client, world[who])
    assert [client.get(p).status_code for p in world["pages"]] == [403] * 4
    token = csrf_fields(client)["csrf_token"]
    for path in world["posts"]:
        assert client.post(path, data={"csrf_token": token, "kind": "claim_filed",
                                       "occurred_on": "2026-11-02", "reason": "x"}
                           ).status_code == 403
    assert _count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_each_staff_role(client, login_as, make_staff, world, role):
    login_as(client, make_staff(role))
    list_page, slash, account_page, correct_page = world["pages"]
    reads = 200 if role in READ else 403
    # /staff/legal is legal's home; managers reach the same list at /staff/legal/
    assert client.get(list_page).status_code == (200 if role == "legal" else 403)
    assert client.get(slash).status_code == reads
    assert client.get(account_page).status_code == reads
    assert client.get(correct_page).status_code == (200 if role == "legal" else 403)
    if role == "legal":
        return
    token = csrf_fields(client)["csrf_token"]
    for path in world["posts"]:
        assert client.post(path, data={"csrf_token": token, "kind": "claim_filed",
                                       "occurred_on": "2026-11-02", "reason": "x"}
                           ).status_code == 403
    assert _count() == 1


def test_managers_see_the_legal_list_in_their_navigation(client, login_as, make_staff, world):
    login_as(client, make_staff("collections_manager"))
    assert 'href="/staff/legal/"' in client.get("/staff/manager").get_data(as_text=True)
