"""The light check a one-tap link asks before it shows anything about the account: the last
four digits of the account's card, or the cardholder's date of birth (either will do; both
given must both be right)."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import Optional, Regexp, ValidationError

from portal.core.inputs import PortalForm
from portal.timeutil import utcnow

EARLIEST_BIRTH = date(1900, 1, 1)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
DATE_MESSAGE = _l("Enter your date of birth as a real date, for example 1980-03-27.")
EITHER_MESSAGE = _l("Enter the last four digits of your card, or your date of birth.")


def _no_spaces(value):
    return re.sub(r"\s", "", value) if isinstance(value, str) else value


class BirthDateField(DateField):
    """A date of birth as a browser's date input sends it (YYYY-MM-DD, ASCII digits); any
    other text, an impossible day (2001-02-30) or a year out of range gets one clear
    message instead of WTForms' own."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist and isinstance(valuelist[0], str) else ""
        self.data = None
        if not text:
            return
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            self.data = date.fromisoformat(text)
        except ValueError:
            raise ValueError(str(DATE_MESSAGE)) from None


class LightCheckForm(PortalForm):
    card_last4 = StringField(_l("Last four digits of your card"), filters=[_no_spaces],
                             validators=[Optional(),
                                         Regexp(r"^[0-9]{4}\Z", message=_l("Enter four digits."))])
    date_of_birth = BirthDateField(_l("Date of birth"), validators=[Optional()])

    def validate_date_of_birth(self, field):
        if field.data is not None and not EARLIEST_BIRTH <= field.data <= utcnow().date():
            raise ValidationError(DATE_MESSAGE)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.card_last4.data and self.date_of_birth.data is None:
            self.card_last4.errors = [str(EITHER_MESSAGE)]
            return False
        return True
