"""Who may open the collections pages: managers everything, a collector their own accounts
(another collector's is 404), other staff and cardholders 403, nobody signed in: sign-in."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.collections import services
from portal.collections.models import ContactLog
from portal.extensions import db
from portal.timeutil import utcnow
from tests.helpers import csrf_token

PAGES = ("/staff/collections/assign", "/staff/collections/my-accounts",
         "/staff/collections/reports")
MANAGER_ONLY = ("/staff/collections/assign", "/staff/collections/reports")
CONTACT = {"channel": "phone", "direction": "outbound", "outcome": "reached",
           "occurred_at": "2026-01-05T10:00", "note": "Access test."}


@pytest.fixture()
def two_desks(make_account, make_staff, make_cardholder):
    manager = make_staff("collections_manager")
    mine, theirs = make_staff("collector"), make_staff("collector")
    late = utcnow().date() - timedelta(days=20)
    a, b = make_account(oldest_unpaid_due_date=late), make_account(oldest_unpaid_due_date=late)
    services.assign([a.id], mine.id, manager)
    services.assign([b.id], theirs.id, manager)
    db.session.commit()
    return manager, mine, a, b


def test_anonymous_is_sent_to_staff_sign_in(client, two_desks):
    _, _, a, _ = two_desks
    for path in PAGES + (f"/staff/collections/accounts/{a.id}",):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_cardholders_get_403(client, login_as, two_desks):
    _, _, a, _ = two_desks
    login_as(client, a.cardholder)
    for path in PAGES + (f"/staff/collections/accounts/{a.id}",):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["customer_service", "risk", "legal", "admin"])
def test_other_staff_roles_get_403(client, login_as, make_staff, two_desks, role):
    _, _, a, _ = two_desks
    login_as(client, make_staff(role))
    for path in PAGES + (f"/staff/collections/accounts/{a.id}",):
        assert client.get(path).status_code == 403


def test_collector_sees_own_accounts_not_anothers(client, login_as, two_desks):
    _, mine, a, b = two_desks
    login_as(client, mine)
    assert client.get("/staff/collections/my-accounts").status_code == 200
    for path in MANAGER_ONLY:
        assert client.get(path).status_code == 403
    assert client.get(f"/staff/collections/accounts/{a.id}").status_code == 200
    assert client.get(f"/staff/collections/accounts/{b.id}").status_code == 404
    assert client.get("/staff/collections/accounts/999999").status_code == 404
    token = csrf_token(client, f"/staff/collections/accounts/{a.id}")
    response = client.post(f"/staff/collections/accounts/{b.id}/contacts",
                           data={**CONTACT, "csrf_token": token})
    assert response.status_code == 404
    assert db.session.scalar(select(ContactLog.id)) is None


def test_collector_loses_access_when_the_account_moves(client, login_as, two_desks):
    manager, mine, a, _ = two_desks
    login_as(client, mine)
    assert client.get(f"/staff/collections/accounts/{a.id}").status_code == 200
    other = services.collectors()[-1] if services.collectors()[-1].id != mine.id \
        else services.collectors()[0]
    services.assign([a.id], other.id, manager)
    db.session.commit()
    assert client.get(f"/staff/collections/accounts/{a.id}").status_code == 404


def test_manager_opens_every_page_and_any_account(client, login_as, two_desks):
    manager, _, a, b = two_desks
    login_as(client, manager)
    for path in PAGES + (f"/staff/collections/accounts/{a.id}",
                         f"/staff/collections/accounts/{b.id}"):
        assert client.get(path).status_code == 200, path


def test_posts_need_a_csrf_token(client, login_as, two_desks):
    manager, _, a, _ = two_desks
    login_as(client, manager)
    assert client.post(f"/staff/collections/accounts/{a.id}/contacts",
                       data=CONTACT).status_code == 400
    assert client.post("/staff/collections/assign",
                       data={"account_ids": [str(a.id)], "to": "none"}).status_code == 400
    assert services.current_assignments([a.id])


def test_nav_and_home_pages_link_the_collections_pages(client, login_as, two_desks):
    manager, mine, _, _ = two_desks
    login_as(client, manager)
    home = client.get("/staff/manager").get_data(as_text=True)
    for path in MANAGER_ONLY + ("/staff/collections/my-accounts",):
        assert f'href="{path}"' in home
    login_as(client, mine)
    home = client.get("/staff/collections").get_data(as_text=True)
    assert 'href="/staff/collections/my-accounts"' in home
    assert 'href="/staff/collections/reports"' not in home
