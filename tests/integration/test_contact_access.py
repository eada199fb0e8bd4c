"""Who may open the contact pages: anonymous, the owner, another cardholder, each staff role."""
import pytest

from portal.contact import services as contact
from portal.contact.footer import opt_out_token
from portal.extensions import db as _db
from tests.dispute_helpers import csrf

STAFF_ROLES = ("customer_service", "collector", "collections_manager", "risk", "legal", "admin")


@pytest.fixture()
def owner(make_cardholder):
    return make_cardholder(email="owner@example.com")


def test_anonymous_is_sent_to_sign_in_for_preferences(client, owner):
    response = client.get("/contact/preferences")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_anonymous_may_open_and_use_an_opt_out_link(client, owner):
    path = f"/contact/opt-out/{opt_out_token(owner.id, 'email')}"
    assert client.get(path).status_code == 200
    assert client.post(path, data={"csrf_token": csrf(client, path)}).status_code == 200
    _db.session.expire_all()
    assert contact.preferences(owner)["email"] is False


def test_owner_sees_their_own_preferences(client, login_as, owner):
    login_as(client, owner)
    page = client.get("/contact/preferences")
    assert page.status_code == 200 and "owner@example.com" in page.text


def test_another_cardholder_sees_only_their_own(client, login_as, owner, make_cardholder):
    other = make_cardholder(email="other@example.com")
    login_as(client, other)
    page = client.get("/contact/preferences")
    assert "other@example.com" in page.text and "owner@example.com" not in page.text
    token = csrf(client, "/contact/preferences")
    client.post("/contact/preferences", data={"csrf_token": token})
    assert contact.preferences(owner) == {"email": True, "sms": True}
    assert contact.preferences(other) == {"email": False, "sms": False}


def test_the_opt_out_page_names_no_address(client, owner):
    page = client.get(f"/contact/opt-out/{opt_out_token(owner.id, 'email')}")
    assert "owner@example.com" not in page.text and owner.full_name not in page.text


def test_a_link_for_a_missing_cardholder_is_not_found(client, db):
    assert client.get(f"/contact/opt-out/{opt_out_token(999_999, 'email')}").status_code == 404


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_cannot_use_the_cardholder_preferences_page(client, login_as, make_staff, role):
    login_as(client, make_staff(role))
    assert client.get("/contact/preferences").status_code == 403
