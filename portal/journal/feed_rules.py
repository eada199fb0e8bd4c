"""Validation of one row of the issuer's account feed. Pure code: no Flask, no database.

`validate_row` turns a mapping of raw text values into a typed `FeedRow` (money in integer
minor units, dates as `date`, phone in E.164, email normalised) or raises `RowError` whose
``reasons`` say in plain English everything that is wrong with the row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from portal.domain.money import MoneyError, parse_major, precision
from portal.journal.feed_phone import checked_phone
from portal.journal.feed_phone import forget as forget_phones
from portal.journal.rules import MovementIdError, parse_movement_ids

FIELDS = (
    "account_number", "card_last4", "cardholder_id", "full_name", "date_of_birth", "phone",
    "email", "locale", "timezone", "policy_profile", "currency", "credit_limit", "principal",
    "interest", "fees", "minimum_due", "oldest_unpaid_due_date", "as_of",
)
# Optional: the portal movements the issuer has applied (docs/money.md). A file without the
# column (an old feed) falls under the date rule in portal.journal.rules.
APPLIED_FIELD = "applied_portal_ids"
AMOUNT_FIELDS = ("credit_limit", "principal", "interest", "fees", "minimum_due")
# The ledger components each balance field feeds.
COMPONENT_FIELDS = (("principal", "principal"), ("interest", "interest"), ("fees", "fee"))
LOCALES = ("en", "zh_Hans")
PROFILES = ("cn", "us")
# Column sizes in the schema: longer text would fail at the database instead of here.
MAX_LENGTH = {"account_number": 32, "cardholder_id": 64, "full_name": 200, "email": 254}
OPTIONAL = ("phone", "email", "oldest_unpaid_due_date")

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_LAST4_RE = re.compile(r"[0-9]{4}", re.ASCII)


class RowError(ValueError):
    """A feed row was refused; ``reasons`` lists every problem found, in plain English."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class FeedRow:
    account_number: str
    card_last4: str
    cardholder_id: str
    full_name: str
    date_of_birth: date
    phone: str | None
    email: str | None
    locale: str
    timezone: str
    policy_profile: str
    currency: str
    credit_limit: int
    principal: int
    interest: int
    fees: int
    minimum_due: int
    oldest_unpaid_due_date: date | None
    as_of: date
    # Ledger entry ids of portal movements the issuer has applied; None: the feed does not say.
    applied_portal_ids: tuple[int, ...] | None = None

    def component_amounts(self) -> dict[str, int]:
        """Feed balance per ledger component name (principal, interest, fee)."""
        return {component: getattr(self, name) for name, component in COMPONENT_FIELDS}


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _text(raw: dict, name: str, reasons: list[str]) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        reasons.append(f"{name} must be text, not {type(value).__name__}")
        return ""
    return value.strip()


def _parse_date(name: str, value: str, reasons: list[str]) -> date | None:
    day = _checked_date(value)
    if isinstance(day, date):
        return day
    reasons.append(f"{name} '{value}' {day}")
    return None


def forget() -> None:
    """Drop what the checks remember (a benchmark's passes each start like a new process)."""
    for cached in (_checked_email, _email_domain, _checked_date, _amount):
        cached.cache_clear()
    forget_phones()


@lru_cache(maxsize=1 << 16)
def _checked_date(value: str) -> date | str:
    """The date, or why the text is not one (a feed repeats a few dates on every row)."""
    if not _DATE_RE.fullmatch(value):
        return "is not a date in the form YYYY-MM-DD"
    try:
        return date.fromisoformat(value)
    except ValueError:
        return "is not a real calendar date"


@lru_cache(maxsize=1 << 16)
def _amount(value: str, currency: str) -> int | MoneyError:
    """parse_major, remembered: limits, fees and minimums repeat across a feed's rows."""
    try:
        return parse_major(value, currency)
    except MoneyError as exc:
        return exc


def _parse_phone(value: str, reasons: list[str]) -> str | None:
    phone, reason = checked_phone(value)
    if reason:
        reasons.append(reason)
    return phone


def _parse_email(value: str, reasons: list[str]) -> str | None:
    email, reason = _checked_email(value)
    if reason:
        reasons.append(reason)
    return email


# A plain address: a dot-atom of letters, digits and _+- before the @-sign (what
# email_validator's local-part check accepts as it is, unchanged), an ASCII host name after.
_PLAIN_EMAIL_RE = re.compile(r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@([A-Za-z0-9.-]+)", re.ASCII)
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_EMAIL_MAX_LENGTH = 254  # email_validator's limit on the whole address
_LOCAL_MAX_LENGTH = 64


@lru_cache(maxsize=1 << 18)
def _checked_email(value: str) -> tuple[str | None, str | None]:
    # A feed's addresses share a few domains, and checking the domain is most of
    # validate_email's work: a plain address is checked as its (remembered) domain's result
    # joined to its local part, which is what validate_email gives for it. Anything else,
    # and every address it refuses, goes through validate_email itself, so the decisions and
    # messages are validate_email's (tests/unit/test_feed_validation_fast.py holds them).
    match = _PLAIN_EMAIL_RE.fullmatch(value)
    if (match and len(value) <= _EMAIL_MAX_LENGTH and len(match[1]) <= _LOCAL_MAX_LENGTH
            and match[1].lower() not in _MAILBOX_NAMES):
        domain = _email_domain(match[2])
        if domain is not None and len(match[1]) + 1 + len(domain) <= _EMAIL_MAX_LENGTH:
            return f"{match[1]}@{domain}", None
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return None, f"email '{value}' is not a valid email address ({exc})"


@lru_cache(maxsize=1 << 12)
def _email_domain(domain: str) -> str | None:
    """The domain as validate_email normalises it, when it accepts it and it stays ASCII
    (else None: the caller checks the whole address)."""
    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain if checked.domain == checked.ascii_domain else None


def _money_reason(name: str, value: str, currency: str, error: MoneyError) -> str:
    if error.code == "negative":
        return f"{name} {value} is negative"
    if error.code == "too_many_decimals":
        return f"{name} {value} has more decimal places than {currency} allows ({precision(currency)})"
    if error.code == "too_large":
        return f"{name} {value} is too large"
    return f"{name} '{value}' is not a plain decimal amount"


def validate_row(raw: dict, known: dict[str, frozenset[str]] | None = None) -> FeedRow:
    """Check one raw row (field name -> text) and return it typed, or raise RowError.

    `known`: {"phone": ..., "email": ...}, values exactly as the portal already stores them
    (each the output of these checks once, which give it back unchanged): taken as they are.

    Guarantees of a returned row: every required field is present, amounts are non-negative
    integers in the currency's minor unit, dates are real dates, the phone (if any) is a valid
    E.164 number, the email (if any) is valid, and at least one of phone and email is given.
    """
    reasons: list[str] = []
    text = {}
    for name in FIELDS:
        value = raw.get(name)
        # Plain text is the common case; _text reports anything else.
        text[name] = value.strip() if type(value) is str else _text(raw, name, reasons)
    missing = [n for n in FIELDS if not text[n] and n not in OPTIONAL]
    reasons.extend(f"{name} is missing" for name in missing)
    if not text["phone"] and not text["email"]:
        reasons.append("phone and email are both empty; at least one is needed")
    for name, limit in MAX_LENGTH.items():
        if len(text[name]) > limit:
            reasons.append(f"{name} is longer than {limit} characters")

    values: dict = {n: text[n] for n in ("account_number", "cardholder_id", "full_name")}
    if text["card_last4"] and not _LAST4_RE.fullmatch(text["card_last4"]):
        reasons.append(f"card_last4 '{text['card_last4']}' is not exactly 4 digits")
    values["card_last4"] = text["card_last4"]
    for name in ("date_of_birth", "as_of", "oldest_unpaid_due_date"):
        values[name] = _parse_date(name, text[name], reasons) if text[name] else None
    for name, check in (("phone", _parse_phone), ("email", _parse_email)):
        value = text[name]
        if not value:
            values[name] = None
        elif known and value in known[name]:
            values[name] = value
        else:
            values[name] = check(value, reasons)
    if text["locale"] and text["locale"] not in LOCALES:
        reasons.append(f"locale '{text['locale']}' is not one of {', '.join(LOCALES)}")
    if text["timezone"] and text["timezone"] not in _zones():
        reasons.append(f"timezone '{text['timezone']}' is not a known IANA time zone")
    if text["policy_profile"] and text["policy_profile"] not in PROFILES:
        reasons.append(f"policy_profile '{text['policy_profile']}' is not one of {', '.join(PROFILES)}")
    values.update(locale=text["locale"], timezone=text["timezone"],
                  policy_profile=text["policy_profile"], currency=text["currency"])

    currency_ok = False
    if text["currency"]:
        try:
            precision(text["currency"])
            currency_ok = True
        except MoneyError:
            reasons.append(f"currency '{text['currency']}' is not a known ISO 4217 currency code")
    for name in AMOUNT_FIELDS:
        values[name] = 0
        if currency_ok and text[name]:
            amount = _amount(text[name], text["currency"])
            if isinstance(amount, MoneyError):
                reasons.append(_money_reason(name, text[name], text["currency"], amount))
            else:
                values[name] = amount

    if APPLIED_FIELD in raw:
        try:
            values[APPLIED_FIELD] = parse_movement_ids(raw[APPLIED_FIELD] or "")
        except MovementIdError as exc:
            reasons.append(f"{APPLIED_FIELD}: {exc}")

    dob, as_of = values["date_of_birth"], values["as_of"]
    if dob and as_of and dob > as_of:
        reasons.append(f"date_of_birth {dob.isoformat()} is after as_of {as_of.isoformat()}")
    if reasons:
        raise RowError(reasons)
    return FeedRow(**values)
