"""The cardholder's promise-to-pay form. Amounts are typed in major units."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import InputRequired, ValidationError

from portal.core.forms import MoneyField
from portal.core.inputs import PortalForm


class PromiseForm(PortalForm):
    amount = MoneyField(_l("Amount you will pay"))
    promised_on = DateField(_l("Date you will pay by"), validators=[
        InputRequired(_l("Enter the date you will pay by, such as 2026-12-24."))])

    def validate_amount(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the amount you will pay."))
