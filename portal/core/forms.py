"""Form pieces shared by every feature: the money amount field and its messages.

Every staff and cardholder form that takes an amount uses `MoneyField` and
`parse_money_fields`, so an amount is read the same way and refused with the same words
wherever it is typed.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

from portal.domain.money import MoneyError, parse_major

# MoneyError codes -> the message shown on the field (msgids shared with the catalogues).
MONEY_ERRORS = {
    "invalid": _l("Enter an amount in numbers only, such as 1250.50."),
    "negative": _l("Enter an amount of zero or more."),
    "too_many_decimals": _l("Enter the amount with no more decimal places than the currency has."),
    "too_large": _l("That amount is too large."),
}
FALLBACK_ERROR = _l("Enter an amount such as 1250.50.")

# Digits grouped by commas in threes, as the portal itself displays amounts ("12,000.00").
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", re.ASCII)


def ungrouped(text: str) -> str:
    """"12,000.00" -> "12000.00"; anything not grouped exactly in threes is left as typed,
    so parse_major refuses it ("1,00", "12,0000")."""
    text = text.strip()
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    return sign + body.replace(",", "") if _GROUPED.fullmatch(body) else text


def money_error(exc: MoneyError):
    """The shared message for a refused amount, for forms that parse amounts themselves."""
    return MONEY_ERRORS.get(exc.code, FALLBACK_ERROR)


class MoneyField(StringField):
    """A money amount typed in major units; after `parse(currency)`, `.minor` holds it in
    integer minor units, or None when the field was left empty.

    What is accepted, in every form: ASCII digits with an optional "." and no more decimals
    than the currency has (trailing zeros aside), surrounded by any spaces. Commas are read
    as thousands separators only when they group the digits in threes before the decimal
    point ("12,000.00", "1,250"), as the portal shows amounts in English and Chinese; any
    other comma ("12,50", "1,00"), spaces inside the number, other signs, exponents and
    non-ASCII digits are refused. Negative amounts are refused. Emptiness is the form's
    business (a validator or the route), not the field's.
    """

    minor: int | None = None

    def parse(self, currency: str) -> None:
        """Set `.minor`; raise ValidationError with the shared message if the text is refused."""
        self.minor = None
        text = (self.data or "").strip()
        if not text:
            return
        try:
            self.minor = parse_major(ungrouped(text), currency)
        except MoneyError as exc:
            raise ValidationError(money_error(exc)) from None


def parse_money_fields(form, currency: str, names) -> bool:
    """Parse the named MoneyFields of `form` in `currency`; False if any was refused, each
    refused field then carrying its message next to the others' validation errors."""
    ok = True
    for name in names:
        field = getattr(form, name)
        try:
            field.parse(currency)
        except ValidationError as exc:
            field.errors = list(field.errors) + [str(exc)]
            ok = False
    return ok
