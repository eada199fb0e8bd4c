"""Rate limits count guesses, not people: good sign-ins do not use up the sign-in limit, and
enrolment's 'too many codes' answer comes for wrong details exactly as for right ones (issue
12, findings 10 and 11)."""
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import post_form
from tests.integration.test_auth_enrolment import GENERIC, _start

THROTTLED = "already sent you several codes"


def test_many_good_sign_ins_of_one_person_are_never_refused(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(15):  # the identity limit is 10 per 15 minutes
        response = post_form(client, "/login", {"identity": holder.email,
                                                "password": CARDHOLDER_PASSWORD})
        assert response.status_code == 302
        post_form(client, "/logout", form_page="/home")


def test_wrong_passwords_still_reach_the_limit_after_good_sign_ins(client, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(3):
        post_form(client, "/login", {"identity": holder.email, "password": CARDHOLDER_PASSWORD})
        post_form(client, "/logout", form_page="/home")
    codes = [post_form(client, "/login", {"identity": "someone@example.com", "password": "x"}
                       ).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_enrolment_says_too_many_codes_for_wrong_details_as_for_right_ones(
        client, make_account, outbox):
    right, wrong = make_account(), make_account()
    answers = {}
    for name, account, override in (("right", right, {}),
                                     ("wrong", wrong, {"date_of_birth": "1970-01-01"})):
        pages = [_start(client, account, **override) for _ in range(5)]
        answers[name] = pages[-1].get_data(as_text=True)
    assert THROTTLED in answers["right"] and THROTTLED in answers["wrong"]
    assert GENERIC not in answers["wrong"]
