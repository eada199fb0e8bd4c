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


def _resend_answers(client, identity):
    _ask(client, identity)
    answers = []
    for _ in range(5):
        response = post_form(client, "/forgot/code/resend", {}, form_page="/forgot/code")
        answers.append("already sent you several codes" in
                       client.get(response.headers["Location"]).get_data(as_text=True))
    return answers


def test_resending_reset_codes_answers_the_same_for_known_and_unknown_identities(
        app, make_cardholder, outbox):
    from portal.extensions import limiter

    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    known = _resend_answers(app.test_client(), holder.phone)
    limiter.reset()  # the same person again from another address
    unknown = _resend_answers(app.test_client(), "+8613999999999")
    assert known == unknown and known[-1] is True
    assert len(outbox()) == 4  # the first code and three more: then nothing for 15 minutes


def test_the_reset_code_limit_follows_the_identity_not_the_cookie(app, client):
    for _ in range(4):  # a new browser session each time: the count stays
        _ask(app.test_client(), "nobody@example.com")
    _ask(client, "nobody@example.com")
    response = post_form(client, "/forgot/code/resend", {}, form_page="/forgot/code")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already sent you several codes" in page


def test_guesses_at_one_reset_are_limited_whatever_address_they_come_from(client):
    _ask(client, "nobody@example.com")
    statuses = []
    for n in range(11):
        if n in (4, 8):  # the code is dead after five tries: ask for another one
            post_form(client, "/forgot/code/resend", {}, form_page="/forgot/code")
        response = post_form(client, "/forgot/code", {"code": "123456"},
                             environ_base={"REMOTE_ADDR": f"203.0.113.{n}"})
        statuses.append(response.status_code)
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
