"""Validation of single account-feed rows: every kind of bad row names its reason."""
from datetime import date

import pytest

from portal.journal.feed_rules import FIELDS, RowError, validate_row

GOOD = {
    "account_number": "6222020000001001", "card_last4": "1001", "cardholder_id": "C1",
    "full_name": "李伟", "date_of_birth": "1985-03-14", "phone": "+8613800138001",
    "email": "li.wei@example.com", "locale": "zh_Hans", "timezone": "Asia/Shanghai",
    "policy_profile": "cn", "currency": "CNY", "credit_limit": "50000", "principal": "8200.50",
    "interest": "12.3", "fees": "0", "minimum_due": "820", "oldest_unpaid_due_date": "2026-10-01",
    "as_of": "2026-11-28",
}


def reason_for(**changes) -> str:
    with pytest.raises(RowError) as caught:
        validate_row({**GOOD, **changes})
    return caught.value.reason


def test_good_row_becomes_minor_units_and_dates():
    row = validate_row(GOOD)
    assert row.principal == 820050 and row.interest == 1230 and row.credit_limit == 5_000_000
    assert row.minimum_due == 82000
    assert row.as_of == date(2026, 11, 28) and row.oldest_unpaid_due_date == date(2026, 10, 1)
    assert row.component_amounts() == {"principal": 820050, "interest": 1230, "fee": 0}


def test_empty_oldest_unpaid_due_date_means_nothing_overdue():
    assert validate_row({**GOOD, "oldest_unpaid_due_date": ""}).oldest_unpaid_due_date is None


def test_phone_is_normalised_to_e164():
    assert validate_row({**GOOD, "phone": "+86 138 0013 8001"}).phone == "+8613800138001"


def test_unknown_currency():
    assert "currency 'ABC' is not a known ISO 4217 currency code" in reason_for(currency="ABC")


def test_more_decimals_than_the_currency_allows():
    assert "principal 10.005 has more decimal places than CNY allows (2)" in reason_for(
        principal="10.005")
    assert "fees 1.5 has more decimal places than JPY allows (0)" in reason_for(
        currency="JPY", principal="100", interest="0", fees="1.5", credit_limit="1",
        minimum_due="1")


def test_negative_amount():
    assert "interest -1.00 is negative" in reason_for(interest="-1.00")


def test_amount_that_is_not_a_plain_decimal():
    assert "credit_limit '1,000' is not a plain decimal amount" in reason_for(credit_limit="1,000")


@pytest.mark.parametrize("value, expected", [
    ("1985-02-30", "date_of_birth '1985-02-30' is not a real calendar date"),
    ("14/03/1985", "date_of_birth '14/03/1985' is not a date in the form YYYY-MM-DD"),
    ("19850314", "date_of_birth '19850314' is not a date in the form YYYY-MM-DD"),
])
def test_bad_date(value, expected):
    assert expected in reason_for(date_of_birth=value)


def test_bad_as_of_and_due_date():
    reason = reason_for(as_of="2026-13-01", oldest_unpaid_due_date="yesterday")
    assert "as_of '2026-13-01' is not a real calendar date" in reason
    assert "oldest_unpaid_due_date 'yesterday' is not a date in the form YYYY-MM-DD" in reason


@pytest.mark.parametrize("phone, expected", [
    ("13800138001", "is not in international E.164 form"),
    ("+861234", "is not a valid phone number"),
    ("+1555", "is not a valid phone number"),
])
def test_bad_phone(phone, expected):
    assert f"phone '{phone}' {expected}" in reason_for(phone=phone)


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com"])
def test_bad_email(email):
    assert f"email '{email}' is not a valid email address" in reason_for(email=email)


def test_unknown_locale_zone_and_profile():
    reason = reason_for(locale="fr", timezone="Mars/Olympus", policy_profile="uk")
    assert "locale 'fr' is not one of en, zh_Hans" in reason
    assert "timezone 'Mars/Olympus' is not a known IANA time zone" in reason
    assert "policy_profile 'uk' is not one of cn, us" in reason


@pytest.mark.parametrize("last4", ["123", "12345", "12a4", "١٢٣٤"])
def test_card_last4_must_be_four_ascii_digits(last4):
    assert f"card_last4 '{last4}' is not exactly 4 digits" in reason_for(card_last4=last4)


@pytest.mark.parametrize("field", [f for f in FIELDS
                                   if f not in ("phone", "email", "oldest_unpaid_due_date")])
def test_missing_required_field(field):
    assert f"{field} is missing" in reason_for(**{field: ""})
    row = dict(GOOD)
    del row[field]
    with pytest.raises(RowError, match=f"{field} is missing"):
        validate_row(row)


def test_phone_or_email_may_be_empty_but_not_both():
    assert validate_row({**GOOD, "phone": ""}).phone is None
    assert validate_row({**GOOD, "email": ""}).email is None
    assert "phone and email are both empty" in reason_for(phone="", email="")


def test_non_text_value_is_refused():
    assert "full_name must be text, not list" in reason_for(full_name=["Li"])


def test_too_long_account_number():
    assert "account_number is longer than 32 characters" in reason_for(account_number="9" * 33)


def test_every_problem_of_a_row_is_reported_together():
    with pytest.raises(RowError) as caught:
        validate_row({**GOOD, "currency": "ABC", "card_last4": "1", "locale": "de"})
    assert len(caught.value.reasons) == 3
