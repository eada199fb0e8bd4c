"""Sessions: rotation at sign-in, idle time-out, cookie flags, CSRF on every sign-in POST."""
import pytest

from portal.config import DevelopmentConfig, ProductionConfig
from portal.timeutil import utcnow
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import post_form


def _session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def _sign_in(client, holder):
    return post_form(client, "/login", {"identity": holder.phone, "password": CARDHOLDER_PASSWORD})


def test_sign_in_gives_a_new_session_and_drops_what_came_before(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
        sess["sid"] = "fixated"
    before = _session_cookie(client)
    _sign_in(client, holder)
    assert _session_cookie(client) != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["sid"] != "fixated"
        assert sess["_user_id"] == holder.get_id()


def test_cardholder_idle_for_fifteen_minutes_is_signed_out(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    _sign_in(client, holder)
    assert client.get("/home").status_code == 200
    with client.session_transaction() as sess:
        sess["last_seen"] = utcnow().timestamp() - 15 * 60 - 1
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/home").status_code == 302


def test_cardholder_active_within_fifteen_minutes_stays_signed_in(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    _sign_in(client, holder)
    with client.session_transaction() as sess:
        sess["last_seen"] = utcnow().timestamp() - 14 * 60
    assert client.get("/home").status_code == 200


@pytest.mark.parametrize("kind,hours", [("cardholder", 2), ("staff", 10)])
def test_a_session_ends_at_its_limit_however_active(client, make_cardholder, make_staff,
                                                    login_as, kind, hours):
    user = make_cardholder() if kind == "cardholder" else make_staff("collector")
    home = "/home" if kind == "cardholder" else "/staff/collections"
    login_as(client, user)
    assert client.get(home).status_code == 200
    with client.session_transaction() as sess:  # signed in long ago, active a minute ago
        sess["started"] = utcnow().timestamp() - hours * 3600 + 60
        sess["last_seen"] = utcnow().timestamp() - 60
    assert client.get(home).status_code == 200
    with client.session_transaction() as sess:
        sess["started"] = utcnow().timestamp() - hours * 3600 - 1
    response = client.get(home)
    assert response.status_code == 302 and "login" in response.headers["Location"]
    assert client.get(home).status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_session_from_before_the_limit_existed_is_ended(client, make_cardholder, login_as):
    login_as(client, make_cardholder())
    with client.session_transaction() as sess:
        del sess["started"]
    assert client.get("/home").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    header = _sign_in(client, holder).headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # development and tests run on plain http


def test_session_cookie_is_secure_when_configured(app, client, make_cardholder, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    header = _sign_in(client, holder).headers["Set-Cookie"]
    assert "Secure" in header and "HttpOnly" in header


def test_secure_cookie_is_the_default_outside_development():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert DevelopmentConfig.SESSION_COOKIE_SECURE is False


@pytest.mark.parametrize("path", ["/login", "/logout", "/enrol", "/enrol/code",
                                  "/enrol/code/resend", "/enrol/password", "/forgot",
                                  "/forgot/code", "/forgot/code/resend", "/forgot/password",
                                  "/staff/login", "/staff/login/code", "/staff/logout"])
def test_post_without_csrf_token_is_refused(client, path):
    response = client.post(path, data={"identity": "a@example.com", "password": "x",
                                       "email": "a@example.com", "code": "123456"})
    assert response.status_code == 400


def test_activity_is_noted_at_most_every_thirty_seconds(client, make_cardholder, login_as):
    """A page within 30 s of the last noted activity sends no new session cookie (issue 15:
    the cookie is not signed again on every page); a later one notes the activity."""
    login_as(client, make_cardholder())
    assert client.get("/home").status_code == 200  # the first page adds its CSRF token
    with client.session_transaction() as sess:
        sess["last_seen"] = noted = utcnow().timestamp() - 10
    response = client.get("/home")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    with client.session_transaction() as sess:
        assert sess["last_seen"] == noted
        sess["last_seen"] = utcnow().timestamp() - 31
    response = client.get("/home")
    assert response.status_code == 200 and "Set-Cookie" in response.headers
    with client.session_transaction() as sess:
        assert sess["last_seen"] >= utcnow().timestamp() - 5
