from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.money import (
    MoneyError,
    format_money,
    parse_major,
    percent_of,
    precision,
    round_half_up,
    to_major,
)


def test_precision_comes_from_babel_per_currency():
    assert precision("USD") == 2
    assert precision("CNY") == 2
    assert precision("JPY") == 0
    assert precision("BHD") == 3


@pytest.mark.parametrize("code", ["FOO", "usd", "", "US"])
def test_unknown_or_non_canonical_currency_is_refused(code):
    with pytest.raises(MoneyError) as exc:
        precision(code)
    assert exc.value.code == "unknown_currency"


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1234.5", "USD", 123450),
        ("0.07", "USD", 7),
        ("12", "USD", 1200),
        ("  12.30 ", "USD", 1230),
        ("12.500", "USD", 1250),  # trailing zeros keep the value exact
        ("1500", "JPY", 1500),
        ("1.234", "BHD", 1234),
        ("007.10", "CNY", 710),
    ],
)
def test_parse_major_gives_exact_minor_units(text, currency, minor):
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("12.5", "JPY", "too_many_decimals"),
        ("0.001", "USD", "too_many_decimals"),
        ("-5", "USD", "negative"),
        ("", "USD", "empty"),
        ("   ", "USD", "empty"),
        ("1e3", "USD", "invalid"),
        ("1,000.00", "USD", "invalid"),
        ("+5", "USD", "invalid"),
        (".5", "USD", "invalid"),
        ("5.", "USD", "invalid"),
        ("nan", "USD", "invalid"),
        ("inf", "USD", "invalid"),
        ("１２", "USD", "invalid"),  # full-width digits
        ("9" * 40, "USD", "too_large"),
        ("12", "XYZ", "unknown_currency"),
    ],
)
def test_parse_major_refuses_what_is_not_a_plain_amount(text, currency, code):
    with pytest.raises(MoneyError) as exc:
        parse_major(text, currency)
    assert exc.value.code == code


def test_money_error_is_a_value_error_for_form_validators():
    with pytest.raises(ValueError):
        parse_major("abc", "USD")


def test_negative_amounts_parse_only_when_allowed():
    assert parse_major("-12.34", "USD", allow_negative=True) == -1234


def test_to_major_is_exact_with_currency_places():
    assert to_major(1250, "USD") == Decimal("12.50")
    assert str(to_major(1250, "USD")) == "12.50"
    assert to_major(1250, "JPY") == Decimal("1250")
    assert to_major(-7, "USD") == Decimal("-0.07")
    assert to_major(10**30 + 1, "USD") == Decimal("10000000000000000000000000000.01")


def test_to_major_refuses_non_integer_amounts():
    with pytest.raises(TypeError):
        to_major(12.5, "USD")
    with pytest.raises(TypeError):
        to_major(True, "USD")


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["USD", "JPY", "BHD", "CNY"]))
@settings(deadline=None, database=None)
def test_parse_major_round_trips_to_major(minor, currency):
    assert parse_major(str(to_major(minor, currency)), currency) == minor


def test_format_money_follows_reader_locale():
    assert format_money(123450, "USD", "en") == "$1,234.50"
    assert format_money(123450, "CNY", "zh_Hans_CN") == "¥1,234.50"
    assert format_money(123450, "CNY", "zh-Hans") == "¥1,234.50"
    assert format_money(1500, "JPY", "en") == "¥1,500"
    assert format_money(123450, "EUR", "de_DE") == "1.234,50\xa0€"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60.5", 61),
        ("60.4999", 60),
        ("0.5", 1),
        ("-0.5", -1),  # half away from zero, like Decimal ROUND_HALF_UP
        ("-60.4", -60),
        ("12", 12),
    ],
)
def test_round_half_up_rounds_halves_up(value, expected):
    assert round_half_up(Decimal(value)) == expected


def test_round_half_up_refuses_floats_and_nan():
    with pytest.raises(TypeError):
        round_half_up(0.5)
    with pytest.raises(ValueError):
        round_half_up(Decimal("NaN"))


def test_percent_of_rounds_once_half_up():
    assert percent_of(10001, Decimal("50")) == 5001  # 5000.5 -> 5001
    assert percent_of(12345, Decimal("10")) == 1235  # 1234.5 -> 1235
    assert percent_of(99, Decimal("33.3333")) == 33  # 32.999967 -> 33
    assert percent_of(200000, Decimal("0")) == 0
