"""Setting up online access: three details, a code by SMS or email, then a password."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.auth.models import OneTimeCode
from portal.extensions import db as _db
from tests.helpers import csrf_token, last_code, post_form

GOOD_PASSWORD = "plum tractor ocean violet"
GENERIC = "could not find an account that matches all three details"


def _details(account, **override):
    data = {"account_number": account.account_number,
            "date_of_birth": account.cardholder.date_of_birth.isoformat(),
            "card_last4": account.card_last4}
    data.update(override)
    return data


def _start(client, account, **override):
    return post_form(client, "/enrol", _details(account, **override))


def test_full_enrolment_with_code_from_sms_signs_the_cardholder_in(client, make_account, outbox):
    account = make_account()
    response = _start(client, account)
    assert response.headers["Location"] == "/enrol/code"
    sms = outbox()[-1]
    assert sms["channel"] == "sms" and sms["to"] == account.cardholder.phone
    assert "valid for 10 minutes" in sms["body"]
    page = client.get("/enrol/code").get_data(as_text=True)
    assert account.cardholder.phone[-4:] in page
    response = post_form(client, "/enrol/code", {"code": last_code(outbox)})
    assert response.headers["Location"] == "/enrol/password"
    response = post_form(client, "/enrol/password", {"password": GOOD_PASSWORD,
                                                     "confirm": GOOD_PASSWORD})
    assert response.headers["Location"] == "/home"
    assert client.get("/home").status_code == 200
    _db.session.refresh(account.cardholder)
    assert account.cardholder.enrolled_at is not None
    assert account.cardholder.password_hash.startswith("scrypt:")


def test_code_goes_by_email_when_there_is_no_phone(client, make_cardholder, make_account,
                                                   outbox):
    holder = make_cardholder(phone=None)
    response = _start(client, make_account(holder))
    mail = outbox()[-1]
    assert mail["channel"] == "email" and mail["to"] == holder.email
    assert mail["subject"] == "Your code to set up online access"
    assert last_code(outbox)
    assert "your email address h***@example.com" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_only_a_hash_of_the_code_is_stored(client, make_account, outbox):
    _start(client, make_account())
    row = _db.session.scalars(select(OneTimeCode)).one()
    assert last_code(outbox) not in row.code_hash


def test_each_wrong_detail_gives_the_same_generic_error(client, make_account, outbox):
    account = make_account()
    pages = [
        _start(client, account, account_number="6200000000000").get_data(as_text=True),
        _start(client, account, date_of_birth="1990-01-01").get_data(as_text=True),
        _start(client, account, card_last4="0000").get_data(as_text=True),
    ]
    for page in pages:
        assert GENERIC in page
        assert "field-error" not in page  # no field singled out
    assert outbox() == []


def test_already_enrolled_cardholder_gets_the_same_error(client, make_cardholder, make_account,
                                                          outbox):
    account = make_account(make_cardholder(password="Correct-Horse-42"))
    page = _start(client, account).get_data(as_text=True)
    assert GENERIC in page
    assert outbox() == []


def test_wrong_code_five_times_kills_it(client, make_account, outbox):
    _start(client, make_account())
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        page = post_form(client, "/enrol/code", {"code": wrong}).get_data(as_text=True)
        assert f"Tries left: {left}." in page
    response = post_form(client, "/enrol/code", {"code": wrong})
    assert response.headers["Location"] == "/enrol"
    assert "can no longer be used" in client.get("/enrol").get_data(as_text=True)
    # even the right code is useless now: the user must start over
    assert client.get("/enrol/code").headers["Location"] == "/enrol"


def test_expired_code_cannot_be_used(client, make_account, outbox):
    _start(client, make_account())
    row = _db.session.scalars(select(OneTimeCode)).one()
    row.expires_at = row.expires_at - timedelta(minutes=11)
    _db.session.commit()
    response = post_form(client, "/enrol/code", {"code": last_code(outbox)})
    assert response.headers["Location"] == "/enrol"


def test_password_step_needs_a_verified_code(client, make_account, outbox):
    _start(client, make_account())
    assert client.get("/enrol/password").headers["Location"] == "/enrol"


def _to_password_step(client, account, outbox):
    _start(client, account)
    post_form(client, "/enrol/code", {"code": last_code(outbox)})


def test_password_policy_refuses_short_and_common_and_accepts_a_good_one(client, make_account,
                                                                        outbox):
    account = make_account()
    _to_password_step(client, account, outbox)
    page = post_form(client, "/enrol/password", {"password": "short1!", "confirm": "short1!"})
    assert "at least 10 characters" in page.get_data(as_text=True)
    page = post_form(client, "/enrol/password", {"password": "password123456",
                                                 "confirm": "password123456"})
    assert "too easy to guess" in page.get_data(as_text=True)
    page = post_form(client, "/enrol/password", {"password": GOOD_PASSWORD, "confirm": "other"})
    assert "not the same" in page.get_data(as_text=True)
    response = post_form(client, "/enrol/password", {"password": GOOD_PASSWORD,
                                                     "confirm": GOOD_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_password_with_own_phone_number_is_refused(client, make_account, outbox):
    account = make_account()
    _to_password_step(client, account, outbox)
    bad = "Qz!" + account.cardholder.phone[-11:]
    page = post_form(client, "/enrol/password", {"password": bad, "confirm": bad})
    assert "Do not use your name, phone number" in page.get_data(as_text=True)


def test_resend_sends_a_new_code_and_the_old_one_stops_working(client, make_account, outbox):
    _start(client, make_account())
    first = last_code(outbox)
    response = post_form(client, "/enrol/code/resend", form_page="/enrol/code")
    assert response.headers["Location"] == "/enrol/code"
    assert len(outbox()) == 2
    second = last_code(outbox)
    if first != second:
        page = post_form(client, "/enrol/code", {"code": first}).get_data(as_text=True)
        assert "not right" in page
    response = post_form(client, "/enrol/code", {"code": second})
    assert response.headers["Location"] == "/enrol/password"


def test_resend_stops_after_a_few_codes(client, make_account, outbox):
    _start(client, make_account())
    for _ in range(4):
        post_form(client, "/enrol/code/resend", form_page="/enrol/code")
    assert len(outbox()) == 4
    page = client.get("/enrol/code").get_data(as_text=True)
    assert "already sent you several codes" in page


def test_enrolment_form_uses_a_date_input_and_numeric_keyboards(client):
    page = client.get("/enrol").get_data(as_text=True)
    assert 'type="date"' in page and 'name="date_of_birth"' in page
    assert 'inputmode="numeric"' in page
    assert csrf_token(client, "/enrol")


def test_code_page_asks_for_a_one_time_code(client, make_account, outbox):
    _start(client, make_account())
    page = client.get("/enrol/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page


def test_a_leap_day_birthday_matches(client, make_cardholder, make_account, outbox):
    holder = make_cardholder(date_of_birth=date(2000, 2, 29))
    response = _start(client, make_account(holder))
    assert response.headers["Location"] == "/enrol/code"
