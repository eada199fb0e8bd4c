"""Plan forms. Amounts are MoneyFields (portal.core.forms), typed in major units."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField, DateField, HiddenField, IntegerField, MultipleFileField, RadioField,
    SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, \
    ValidationError

from portal.core.forms import MoneyField
from portal.core.inputs import PortalForm


def frequency_choices():
    return [("monthly", _l("Monthly")), ("fortnightly", _l("Every two weeks")),
            ("weekly", _l("Weekly"))]


class ProposeForm(PortalForm):
    mode = RadioField(_l("How do you want to choose your plan?"), default="count",
                      choices=[("count", _l("Choose the number of payments")),
                               ("amount", _l("Tell us how much you can pay each time"))])
    count = IntegerField(_l("Number of payments"), validators=[Optional(), NumberRange(1, 600)])
    amount = MoneyField(_l("Amount you can pay each time"))
    frequency = SelectField(_l("How often"), choices=frequency_choices, default="monthly")
    first_date = DateField(_l("Date of the first payment"), validators=[
        InputRequired(_l("Enter the date of the first payment."))])
    down_payment = MoneyField(_l("First payment up front (optional)"))

    def validate_count(self, field):
        if self.mode.data == "count" and not field.data:
            raise ValidationError(_l("Enter the number of payments."))

    def validate_amount(self, field):
        if self.mode.data == "amount" and not (field.data or "").strip():
            raise ValidationError(_l("Enter the amount you can pay each time."))


class ConsentForm(PortalForm):
    kind = HiddenField()
    count = HiddenField()
    frequency = HiddenField()
    first_date = HiddenField()
    down_payment = HiddenField()
    source = HiddenField()
    statement = HiddenField()
    terms_hash = HiddenField(validators=[DataRequired()])
    consent = BooleanField(_l("I have read the terms and the payment schedule and I agree to them."),
                           validators=[DataRequired(_l("Tick the box to agree to the terms."))])


class CounterConsentForm(PortalForm):
    terms_hash = HiddenField(validators=[DataRequired()])
    consent = BooleanField(_l("I have read the new terms and the payment schedule and I agree to them."),
                           validators=[DataRequired(_l("Tick the box to agree to the terms."))])


class ConfirmForm(PortalForm):
    """A POST with nothing but the CSRF token (decline, cancel, approve)."""


EXPENSES = (("housing", _l("Housing (rent or mortgage)")), ("utilities", _l("Utilities")),
            ("food", _l("Food and household")), ("transport", _l("Transport")),
            ("childcare", _l("Childcare")), ("other_debts", _l("Payments on other debts")))


class HardshipForm(PortalForm):
    income = MoneyField(_l("Monthly income after tax"))
    housing = MoneyField(EXPENSES[0][1])
    utilities = MoneyField(EXPENSES[1][1])
    food = MoneyField(EXPENSES[2][1])
    transport = MoneyField(EXPENSES[3][1])
    childcare = MoneyField(EXPENSES[4][1])
    other_debts = MoneyField(EXPENSES[5][1])
    proof = MultipleFileField(_l("Proof of income and costs (optional): payslips or bank statements"))

    def validate_income(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter your monthly income (0 if you have none)."))


class CounterForm(PortalForm):
    kind = SelectField(_l("Plan type"), choices=[
        ("instalment", _l("Instalment plan")), ("settlement", _l("Settlement (one payment)")),
        ("deferral", _l("Pay later (one payment)"))])
    count = IntegerField(_l("Number of payments"), validators=[InputRequired(), NumberRange(1, 600)])
    frequency = SelectField(_l("How often"), choices=frequency_choices)
    first_date = DateField(_l("Date of the first payment"), validators=[InputRequired()])
    down_payment = MoneyField(_l("First payment up front (optional)"))
    fees_waived = BooleanField(_l("Waive fees"))
    discount_percent = StringField(_l("Settlement discount, percent"), default="0",
                                   validators=[Optional(), Length(max=6)])
    reason = TextAreaField(_l("Message to the cardholder"), validators=[
        DataRequired(_l("Explain the counter-offer to the cardholder.")), Length(max=2000)])


class RejectForm(PortalForm):
    reason = TextAreaField(_l("Reason the cardholder will see"), validators=[
        DataRequired(_l("Give the reason the cardholder will see.")), Length(max=2000)])


class StatusFilterForm(PortalForm):
    class Meta:
        csrf = False
    status = SelectField(_l("Status"), validators=[Optional()])
