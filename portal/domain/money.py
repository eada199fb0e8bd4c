"""Money as integer minor units plus an ISO 4217 code; Decimal only at the edges.

Babel is the single source of currency precision and of display formatting, so
parsing, conversion and formatting always agree on how many decimals a currency has.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, is_currency

# Amounts are stored in BIGINT columns; anything larger cannot be persisted.
MAX_MINOR = 2**63 - 1

# ASCII only: \d would otherwise accept Arabic-Indic or full-width digits.
_AMOUNT_RE = re.compile(r"(?P<sign>-?)(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?", re.ASCII)


class MoneyError(ValueError):
    """A money value or currency was refused; ``code`` says why, for forms and APIs.

    Codes: ``empty``, ``invalid``, ``negative``, ``too_many_decimals``,
    ``too_large``, ``unknown_currency``.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


def _require_int(amount_minor: int) -> None:
    # bool is an int subclass; True as "1 cent" is always a bug.
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise TypeError(f"amount in minor units must be int, got {type(amount_minor).__name__}")


def precision(currency: str) -> int:
    """Number of minor-unit decimals for an ISO 4217 code (USD 2, JPY 0, BHD 3).

    Codes must be canonical upper case; anything Babel does not know raises
    ``MoneyError("unknown_currency")`` instead of silently defaulting to 2.
    """
    places = _precision(currency) if isinstance(currency, str) else None
    if places is None:
        raise MoneyError("unknown_currency", f"unknown currency {currency!r}")
    return places


@lru_cache(maxsize=1024)
def _precision(currency: str) -> int | None:
    # Babel's data does not change while the process runs; a feed asks once per amount.
    return get_currency_precision(currency) if is_currency(currency) else None


def parse_major(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """Parse a plain decimal string in major units ("1234.5") into integer minor units.

    Accepts only ``[-]digits[.digits]`` (surrounding whitespace ignored): no
    exponents, grouping separators, signs other than ``-``, or non-ASCII digits.
    Extra decimals are accepted only when they are zeros ("12.50" for USD, "12.0"
    for JPY), because the value is still exact. Raises ``MoneyError``.
    """
    places = precision(currency)
    if text is None or not str(text).strip():
        raise MoneyError("empty")
    match = _AMOUNT_RE.fullmatch(str(text).strip())
    if match is None:
        raise MoneyError("invalid", f"not a plain decimal amount: {text!r}")
    if match["sign"] and not allow_negative:
        raise MoneyError("negative")
    frac = match["frac"] or ""
    if frac[places:].strip("0"):
        raise MoneyError("too_many_decimals", f"{currency} allows {places} decimal places")
    frac = frac[:places].ljust(places, "0")
    # Length check first: int() of a huge string is slow and has its own limit.
    if len(match["int"].lstrip("0")) > 20:
        raise MoneyError("too_large")
    minor = int(match["int"] + frac)
    if minor > MAX_MINOR:
        raise MoneyError("too_large")
    return -minor if match["sign"] else minor


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Exact Decimal in major units, with the currency's number of places (1250 USD -> 12.50)."""
    _require_int(amount_minor)
    # Built from a string so no context precision or rounding is involved.
    return Decimal(f"{amount_minor}e-{precision(currency)}")


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """Display string for the reader's locale ("en" -> "$1,234.50", "zh_Hans_CN" -> "¥1,234.50").

    Accepts "zh-Hans" as well as "zh_Hans". For display only; never parse it back.
    """
    _require_int(amount_minor)  # before the cache: True must not read as a cached 1
    return _formatted(amount_minor, currency, locale)


# Pages show the same few amounts again and again (a cardholder's balance on every page, the
# same fee on many accounts): each distinct one is formatted once per process.
@lru_cache(maxsize=8192)
def _formatted(amount_minor: int, currency: str, locale: str) -> str:
    return format_currency(to_major(amount_minor, currency), currency, locale=_locale(locale))


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    return Locale.parse(code.replace("-", "_"))


def divide_half_up(numerator: int, denominator: int) -> int:
    """Exact ``numerator / denominator`` rounded to an int, halves away from zero.

    Integer arithmetic only, so no Decimal context can round before we do.
    """
    if denominator == 0:
        raise ZeroDivisionError("denominator is zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def round_half_up(value: Decimal) -> int:
    """Round a Decimal amount of minor units to int, ROUND_HALF_UP (0.5 -> 1, -0.5 -> -1)."""
    if isinstance(value, float):
        raise TypeError("floats are not accepted for money; use Decimal")
    try:
        num, den = Decimal(value).as_integer_ratio()
    except (ValueError, OverflowError) as exc:  # NaN, Infinity
        raise ValueError(f"cannot round {value!r}") from exc
    return divide_half_up(num, den)


def percent_of(amount_minor: int, percent: Decimal) -> int:
    """``amount_minor * percent / 100`` rounded half-up exactly once (10001 at 50% -> 5001)."""
    _require_int(amount_minor)
    if isinstance(percent, float):
        raise TypeError("floats are not accepted for percentages; use Decimal")
    try:
        num, den = Decimal(percent).as_integer_ratio()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"invalid percent {percent!r}") from exc
    return divide_half_up(amount_minor * num, den * 100)
