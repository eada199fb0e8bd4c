"""Forgot password: a neutral answer for everyone, a code for enrolled cardholders only."""
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import last_code, post_form

NEUTRAL = "If we know this mobile number or email, we have sent a code"
NEW_PASSWORD = "lantern meadow copper river"


def _ask(client, identity):
    response = post_form(client, "/forgot", {"identity": identity})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return response, page


def test_reset_by_phone_then_sign_in_with_the_new_password(client, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    response, page = _ask(client, holder.phone)
    assert response.headers["Location"] == "/forgot/code" and NEUTRAL in page
    assert outbox()[-1]["to"] == holder.phone
    response = post_form(client, "/forgot/code", {"code": last_code(outbox)})
    assert response.headers["Location"] == "/forgot/password"
    response = post_form(client, "/forgot/password", {"password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/login"
    assert "was just changed" in outbox()[-1]["body"]
    old = post_form(client, "/login", {"identity": holder.phone, "password": CARDHOLDER_PASSWORD})
    assert old.status_code == 200
    new = post_form(client, "/login", {"identity": holder.phone, "password": NEW_PASSWORD})
    assert new.headers["Location"] == "/home"


def test_reset_code_goes_by_email_when_there_is_no_phone(client, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, phone=None)
    _ask(client, holder.email.upper())
    assert outbox()[-1]["channel"] == "email" and outbox()[-1]["to"] == holder.email


def test_unknown_and_not_enrolled_identities_get_the_same_answer_and_no_message(
        client, make_cardholder, outbox):
    pending = make_cardholder()  # never set up online access
    for identity in ("+8613999999999", "nobody@example.com", pending.phone):
        response, page = _ask(client, identity)
        assert response.headers["Location"] == "/forgot/code" and NEUTRAL in page
    assert outbox() == []


def test_a_guessed_code_for_an_unknown_identity_behaves_like_a_wrong_one(client):
    _ask(client, "nobody@example.com")
    for left in (4, 3, 2, 1):
        page = post_form(client, "/forgot/code", {"code": "123456"}).get_data(as_text=True)
        assert f"Tries left: {left}." in page
    assert post_form(client, "/forgot/code", {"code": "123456"}).headers["Location"] == "/forgot"


def test_reset_lifts_a_lockout(client, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(5):
        post_form(client, "/login", {"identity": holder.phone, "password": "Wrong-Password-1"})
    _ask(client, holder.phone)
    post_form(client, "/forgot/code", {"code": last_code(outbox)})
    post_form(client, "/forgot/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    response = post_form(client, "/login", {"identity": holder.phone, "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/home"


def test_a_reset_code_cannot_be_used_twice(client, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    _ask(client, holder.phone)
    code = last_code(outbox)
    post_form(client, "/forgot/code", {"code": code})
    post_form(client, "/forgot/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get("/forgot/password").headers["Location"] == "/forgot"


def test_reset_password_must_follow_the_policy(client, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    _ask(client, holder.phone)
    post_form(client, "/forgot/code", {"code": last_code(outbox)})
    page = post_form(client, "/forgot/password", {"password": "password123456",
                                                  "confirm": "password123456"})
    assert "too easy to guess" in page.get_data(as_text=True)


def test_enrolment_code_is_not_accepted_for_a_reset(client, make_account, outbox):
    account = make_account()
    post_form(client, "/enrol", {"account_number": account.account_number,
                                 "date_of_birth": account.cardholder.date_of_birth.isoformat(),
                                 "card_last4": account.card_last4})
    enrol_code = last_code(outbox)
    with client.session_transaction() as sess:
        sess["reset_code"] = {"id": sess["enrol_code"]["id"], "tries": 0}
    response = post_form(client, "/forgot/code", {"code": enrol_code})
    assert response.headers["Location"] == "/forgot"
