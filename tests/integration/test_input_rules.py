"""Every form and query parameter follows one input rule: control characters are refused with
a message beside the field, whole numbers are ASCII digits within bounds, and ids beyond what
the database holds are 'not found' (issue 12, findings 4, 5, 7 and 9)."""
import pytest
from sqlalchemy import func, select

from portal.disputes.models import Dispute
from portal.extensions import db as _db
from portal.payments.sandbox import signed
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import post_form
from tests.integration.test_dispute_raise import post_new

REFUSED = "This contains characters that cannot be used here. Please type it again."
NOT_DIGITS = "Enter a whole number using the digits 0 to 9."


@pytest.mark.parametrize("path,data", [
    ("/login", {"identity": "holder\x00@example.com", "password": CARDHOLDER_PASSWORD}),
    ("/forgot", {"identity": "+86138\x0000000001"}),
    ("/enrol", {"account_number": "62\x000000000001", "date_of_birth": "1985-04-12",
                "card_last4": "4242"}),
])
def test_a_nul_byte_in_a_sign_in_or_enrolment_field_is_refused_beside_the_field(
        client, make_cardholder, path, data):
    make_cardholder(password=CARDHOLDER_PASSWORD)
    response = post_form(client, path, data)
    assert response.status_code in (200, 422)
    assert REFUSED in response.get_data(as_text=True)


def test_a_dispute_description_with_a_nul_byte_is_refused_and_nothing_is_stored(
        client, login_as, make_account):
    account = make_account()
    login_as(client, account.cardholder)
    response = post_new(client, account, description="Charged\x00 twice.")
    assert REFUSED in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count(Dispute.id))) == 0


def test_a_count_in_other_scripts_digits_or_with_a_plus_sign_is_refused(
        client, login_as, make_account):
    account = make_account()
    login_as(client, account.cardholder)
    path = f"/accounts/{account.id}/plans/propose"
    for count in ("٣", "+5"):
        response = post_form(client, path, {"kind": "instalment", "count": count,
                                            "frequency": "monthly"})
        assert response.status_code in (200, 422)
        assert NOT_DIGITS in response.get_data(as_text=True)


@pytest.mark.parametrize("odd", [{"statement": "9" * 30}, {"count": "9" * 30},
                                 {"statement": "٣"}, {"count": "+5"}, {"count": "٣"},
                                 {"down_payment": "9" * 30}])
def test_huge_or_odd_numbers_in_the_plan_confirm_query_are_refused_not_a_500(
        client, login_as, make_account, odd):
    account = make_account()
    login_as(client, account.cardholder)
    query = {"kind": "instalment", "count": "6", "frequency": "monthly",
             "first_date": "2026-12-05", **odd}
    response = client.get(f"/accounts/{account.id}/plans/confirm", query_string=query)
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("path", ["/staff/plans/" + "9" * 30, "/staff/plans/2147483648",
                                  "/staff/payments/99999999999999999999"])
def test_an_id_beyond_the_database_range_is_not_found(client, login_as, make_staff, path):
    login_as(client, make_staff("collections_manager"))
    assert client.get(path).status_code == 404


def test_a_control_character_in_a_query_parameter_is_a_bad_request(client, login_as, make_staff):
    login_as(client, make_staff("collections_manager"))
    assert client.get("/staff/plans?status=active%00").status_code == 400


@pytest.mark.parametrize("body", [
    {"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}},
    [{"id": "evt_1"}],
    {"id": {"nested": 1}, "type": "x"},
    {"id": "evt_2", "type": "payment_intent.succeeded", "data": ["not", "an", "object"]},
])
def test_a_signed_webhook_that_is_not_an_event_is_a_400(app, client, body):
    payload, signature = signed(body)
    response = client.post("/webhooks/payments", data=payload,
                           headers={"Stripe-Signature": signature})
    assert response.status_code == 400
