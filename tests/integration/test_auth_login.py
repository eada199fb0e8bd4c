"""Cardholder sign-in: phone or email, one message for every failure, lockout, rate limits."""
from datetime import timedelta

from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import post_form

WRONG = "The mobile number, email or password is not right"
LOCKED = "Too many attempts. Please try again later"


def _login(client, identity, password=CARDHOLDER_PASSWORD, **extra):
    return post_form(client, "/login", {"identity": identity, "password": password, **extra})


def test_sign_in_by_phone_lands_on_the_dashboard(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, phone="+8613800000001")
    response = _login(client, "+86 138 0000 0001")
    assert response.headers["Location"] == "/home"
    assert client.get("/home").status_code == 200
    assert holder.get_id()


def test_sign_in_by_email_ignores_case(client, make_cardholder):
    make_cardholder(password=CARDHOLDER_PASSWORD, email="Lily.Chen@Example.com")
    response = _login(client, "lily.chen@EXAMPLE.com")
    assert response.headers["Location"] == "/home"


def test_sign_in_follows_a_safe_next_but_not_an_offsite_one(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    response = _login(client, holder.email, next="/home?x=1")
    assert response.headers["Location"] == "/home?x=1"
    post_form(client, "/logout", form_page="/home")
    response = _login(client, holder.email, next="https://evil.example/")
    assert response.headers["Location"] == "/home"


def test_unknown_user_and_wrong_password_get_the_same_message(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    unknown = _login(client, "+8613999999999").get_data(as_text=True)
    wrong = _login(client, holder.phone, "Wrong-Password-123").get_data(as_text=True)
    assert WRONG in unknown and WRONG in wrong
    assert unknown.count("error") == wrong.count("error")


def test_not_yet_enrolled_cardholder_cannot_sign_in(client, make_cardholder):
    holder = make_cardholder()
    assert WRONG in _login(client, holder.phone, "anything-at-all").get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(4):
        assert WRONG in _login(client, holder.phone, "Wrong-Password-123").get_data(as_text=True)
    assert LOCKED in _login(client, holder.phone, "Wrong-Password-123").get_data(as_text=True)
    page = _login(client, holder.phone).get_data(as_text=True)
    assert LOCKED in page
    assert client.get("/home").status_code == 302  # still signed out
    _db.session.refresh(holder)
    assert holder.locked_until is not None


def test_lock_lifts_after_fifteen_minutes(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(5):
        _login(client, holder.phone, "Wrong-Password-123")
    _db.session.refresh(holder)
    holder.locked_until = utcnow() - timedelta(seconds=1)  # as if 15 minutes had passed
    _db.session.commit()
    response = _login(client, holder.phone)
    assert response.headers["Location"] == "/home"
    _db.session.refresh(holder)
    assert holder.failed_logins == 0 and holder.locked_until is None


def test_success_resets_the_failure_count(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(3):
        _login(client, holder.phone, "Wrong-Password-123")
    _login(client, holder.phone)
    _db.session.refresh(holder)
    assert holder.failed_logins == 0


def test_unknown_identity_also_looks_locked_after_five_tries(client):
    for _ in range(4):
        assert WRONG in _login(client, "nobody@example.com", "x").get_data(as_text=True)
    assert LOCKED in _login(client, "nobody@example.com", "x").get_data(as_text=True)


def test_too_many_tries_for_one_identity_get_429(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_IDENTITY", "3 per 15 minutes")
    for _ in range(3):
        assert _login(client, "+8613999999999", "x").status_code == 200
    response = _login(client, "+86 139 9999 9999", "x")  # same identity, typed differently
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert _login(client, "+8613999999998", "x").status_code == 200  # another identity is fine


def test_too_many_tries_from_one_address_get_429(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_IP", "3 per 15 minutes")
    for n in range(3):
        assert _login(client, f"+861390000000{n}", "x").status_code == 200
    assert _login(client, "+8613900000009", "x").status_code == 429


def test_default_identity_limit_gives_429_after_ten_tries(client):
    codes = [_login(client, "someone@example.com", "x").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_login_page_links_to_enrol_and_forgot_and_sets_autocomplete(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/enrol"' in page and 'href="/forgot"' in page
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page


def test_logout_signs_out(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    _login(client, holder.phone)
    response = post_form(client, "/logout", form_page="/home")
    assert response.headers["Location"] == "/login"
    assert client.get("/home").status_code == 302
