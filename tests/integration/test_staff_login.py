"""Staff sign-in: email and password, then a TOTP code; lockout and rate limits as for cardholders."""
import pyotp

from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.conftest import STAFF_PASSWORD
from tests.helpers import post_form

INVALID = "The email, password or code is not right"
LOCKED = "Too many attempts. Please try again later"


def _password(client, email, password=STAFF_PASSWORD):
    return post_form(client, "/staff/login", {"email": email, "password": password})


def _code(client, code):
    return post_form(client, "/staff/login/code", {"code": code})


def test_password_then_totp_signs_a_collector_in_to_their_home(client, make_staff, totp_now):
    staff = make_staff("collector")
    response = _password(client, staff.email.upper())
    assert response.headers["Location"] == "/staff/login/code"
    assert client.get("/staff/").status_code == 302  # not signed in after the password alone
    response = _code(client, totp_now(staff))
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/").headers["Location"] == "/staff/collections"
    assert client.get("/staff/collections").status_code == 200


def test_code_page_asks_for_a_one_time_code(client, make_staff):
    staff = make_staff()
    _password(client, staff.email)
    page = client.get("/staff/login/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page


def test_the_same_totp_code_cannot_be_used_twice(client, app, make_staff, totp_now):
    staff = make_staff("collector")
    code = totp_now(staff)
    _password(client, staff.email)
    _code(client, code)
    other = app.test_client()
    _password(other, staff.email)
    page = _code(other, code).get_data(as_text=True)
    assert INVALID in page
    assert other.get("/staff/collections").status_code == 302


def test_a_code_from_the_previous_step_is_still_accepted(client, make_staff):
    staff = make_staff()
    previous = pyotp.TOTP(staff.totp_secret).at(utcnow().timestamp() - 30)
    _password(client, staff.email)
    assert _code(client, previous).headers["Location"] == "/staff/"


def test_a_code_two_minutes_old_is_refused(client, make_staff):
    staff = make_staff()
    old = pyotp.TOTP(staff.totp_secret).at(utcnow().timestamp() - 120)
    _password(client, staff.email)
    assert INVALID in _code(client, old).get_data(as_text=True)


def test_unknown_email_and_wrong_password_get_the_same_message(client, make_staff):
    staff = make_staff()
    assert INVALID in _password(client, "nobody@issuer.example").get_data(as_text=True)
    assert INVALID in _password(client, staff.email, "Wrong-Password-99").get_data(as_text=True)


def test_inactive_staff_cannot_sign_in(client, make_staff):
    staff = make_staff()
    staff.active = False
    _db.session.commit()
    assert INVALID in _password(client, staff.email).get_data(as_text=True)


def test_five_wrong_codes_lock_the_staff_account(client, make_staff, totp_now):
    staff = make_staff()
    _password(client, staff.email)
    for _ in range(4):
        assert INVALID in _code(client, "000000").get_data(as_text=True)
    response = _code(client, "000000")
    assert response.headers["Location"] == "/staff/login"
    page = _password(client, staff.email).get_data(as_text=True)
    assert LOCKED in page


def test_staff_lock_lifts_after_fifteen_minutes(client, make_staff, totp_now):
    staff = make_staff()
    for _ in range(5):
        _password(client, staff.email, "Wrong-Password-99")
    assert LOCKED in _password(client, staff.email).get_data(as_text=True)
    _db.session.refresh(staff)
    staff.locked_until = utcnow()
    _db.session.commit()
    assert _password(client, staff.email).headers["Location"] == "/staff/login/code"
    assert _code(client, totp_now(staff)).headers["Location"] == "/staff/"


def test_too_many_tries_for_one_staff_email_get_429(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_IDENTITY", "2 per 15 minutes")
    for _ in range(2):
        assert _password(client, "x@issuer.example", "x").status_code == 200
    assert _password(client, "X@issuer.example", "x").status_code == 429


def test_code_step_without_the_password_step_goes_back_to_login(client):
    assert client.get("/staff/login/code").headers["Location"] == "/staff/login"


def test_staff_logout(client, make_staff, totp_now):
    staff = make_staff()
    _password(client, staff.email)
    _code(client, totp_now(staff))
    response = post_form(client, "/staff/logout", form_page="/staff/collections")
    assert response.headers["Location"] == "/staff/login"
    assert client.get("/staff/collections").status_code == 302
