"""Sessions end for good: a password reset, a sign-out or an enrolment makes older cookies useless."""
import pytest

from portal import create_app
from tests.conftest import CARDHOLDER_PASSWORD, STAFF_PASSWORD
from tests.helpers import last_code, post_form

NEW_PASSWORD = "lantern meadow copper river"


def _sign_in(client, holder):
    response = post_form(client, "/login", {"identity": holder.phone,
                                            "password": CARDHOLDER_PASSWORD})
    assert response.headers["Location"] == "/home"
    return client


def test_password_reset_signs_out_a_session_opened_with_the_old_password(
        app, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    thief = _sign_in(app.test_client(), holder)
    owner = app.test_client()
    post_form(owner, "/forgot", {"identity": holder.phone})
    post_form(owner, "/forgot/code", {"code": last_code(outbox)})
    response = post_form(owner, "/forgot/password", {"password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/login"
    assert thief.get("/home").headers["Location"].startswith("/login")
    fresh = post_form(app.test_client(), "/login", {"identity": holder.phone,
                                                    "password": NEW_PASSWORD})
    assert fresh.headers["Location"] == "/home"


def test_a_copied_cookie_no_longer_works_after_sign_out(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    client = _sign_in(app.test_client(), holder)
    cookie = client.get_cookie("session").value
    post_form(client, "/logout", {}, form_page="/home")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/home").headers["Location"].startswith("/login")


def test_signing_out_on_one_device_signs_out_the_others(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    phone, laptop = _sign_in(app.test_client(), holder), _sign_in(app.test_client(), holder)
    post_form(phone, "/logout", {}, form_page="/home")
    assert laptop.get("/home").status_code == 302
    assert _sign_in(phone, holder).get("/home").status_code == 200


def test_a_copied_staff_cookie_no_longer_works_after_sign_out(app, make_staff, totp_now):
    staff = make_staff("collector")
    client = app.test_client()
    post_form(client, "/staff/login", {"email": staff.email, "password": STAFF_PASSWORD})
    post_form(client, "/staff/login/code", {"code": totp_now(staff)})
    assert client.get("/staff/collections").status_code == 200
    cookie = client.get_cookie("session").value
    post_form(client, "/staff/logout", {}, form_page="/staff/collections")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/staff/collections").status_code == 302


def test_production_refuses_to_start_with_per_process_rate_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    settings = {"SECRET_KEY": "a-real-secret", "RATELIMIT_STORAGE_URI": "memory://",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"}
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        create_app(settings)
