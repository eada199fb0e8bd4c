"""Forms and labels of the collections pages. Amounts are typed in major units."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.collections.models import ContactChannel, ContactDirection, ContactOutcome
from portal.collections.rules import BUCKETS
from portal.core.forms import MoneyField
from portal.core.inputs import PortalForm

CHANNELS = {
    ContactChannel.PHONE: _l("Phone"),
    ContactChannel.EMAIL: _l("Email"),
    ContactChannel.SMS: _l("Text message"),
    ContactChannel.LETTER: _l("Letter"),
    ContactChannel.IN_PERSON: _l("In person"),
}
DIRECTIONS = {
    ContactDirection.OUTBOUND: _l("We contacted the cardholder"),
    ContactDirection.INBOUND: _l("The cardholder contacted us"),
}
OUTCOMES = {
    ContactOutcome.REACHED: _l("Spoke with the cardholder"),
    ContactOutcome.NO_ANSWER: _l("No answer"),
    ContactOutcome.LEFT_MESSAGE: _l("Left a message"),
    ContactOutcome.PROMISED: _l("Promised to pay"),
    ContactOutcome.CALLBACK: _l("Asked to be called back"),
    ContactOutcome.REFUSED: _l("Refused to pay"),
    ContactOutcome.DISPUTED: _l("Disputes the debt"),
    ContactOutcome.WRONG_CONTACT: _l("Wrong contact details"),
}
PROMISE_STATUS = {"kept": _l("Kept"), "broken": _l("Broken"), "pending": _l("Not yet due")}
BUCKET_LABELS = {
    "1-29": _l("1 to 29 days late"), "30-59": _l("30 to 59 days late"),
    "60-89": _l("60 to 89 days late"), "90-179": _l("90 to 179 days late"),
    "180+": _l("180 days late or more"),
}
assert set(BUCKET_LABELS) == {key for key, _, _ in BUCKETS}


class AssignFilterForm(PortalForm):
    """GET filters of the assignment page; nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    profile = SelectField(_l("Policy profile"), validators=[Optional()])
    bucket = SelectField(_l("Days late"), validators=[Optional()],
                         choices=[("", _l("Any"))] + list(BUCKET_LABELS.items()))
    collector = SelectField(_l("Collector"), validators=[Optional()])

    def set_choices(self, profiles, collectors):
        self.profile.choices = [("", _l("Any"))] + [(p, p) for p in profiles]
        self.collector.choices = ([("", _l("Any")), ("none", _l("Not assigned"))]
                                  + [(str(c.id), c.name) for c in collectors])


class AssignForm(PortalForm):
    account_ids = SelectMultipleField(_l("Accounts"), coerce=int, validate_choice=False)
    to = SelectField(_l("Assign the selected accounts to"),
                     validators=[InputRequired(_l("Choose a collector."))])

    def set_choices(self, collectors):
        self.to.choices = ([("", _l("Choose a collector"))]
                           + [(str(c.id), c.name) for c in collectors]
                           + [("none", _l("No one (remove the assignment)"))])

    def validate_account_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Select at least one account."))

    def validate_to(self, field):
        if not field.data:
            raise ValidationError(_l("Choose a collector."))


def _choices(labels):
    return [(key.value, label) for key, label in labels.items()]


class ContactForm(PortalForm):
    channel = SelectField(_l("Channel"), choices=_choices(CHANNELS))
    direction = SelectField(_l("Who made contact"), choices=_choices(DIRECTIONS))
    outcome = SelectField(_l("Outcome"), choices=_choices(OUTCOMES))
    occurred_at = DateTimeLocalField(_l("When"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                     validators=[InputRequired(_l("Enter when the contact took place."))])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000, message=_l(
        "Keep the note to 2000 characters or fewer."))])
    promise_amount = MoneyField(_l("Amount promised (optional)"))
    promise_date = DateField(_l("Promised payment date (optional)"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        amount = (self.promise_amount.data or "").strip()
        promised = self.outcome.data == ContactOutcome.PROMISED.value
        if (amount or self.promise_date.data or promised) and not amount:
            self.promise_amount.errors = list(self.promise_amount.errors) + [
                _l("Enter the amount the cardholder promised to pay.")]
            ok = False
        if (amount or promised) and not self.promise_date.data and not self.promise_date.errors:
            self.promise_date.errors = list(self.promise_date.errors) + [
                _l("Enter the date the cardholder promised to pay by.")]
            ok = False
        if (amount or self.promise_date.data) and not promised:
            self.outcome.errors = list(self.outcome.errors) + [
                _l("A promise to pay needs the outcome \"Promised to pay\".")]
            ok = False
        return ok


class ReportForm(PortalForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_from(self, field):
        _within_reach(field)

    def validate_date_to(self, field):
        _within_reach(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))


# A period's days are moved by one either side in the queries; dates this far out mean nothing.
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


def _within_reach(field):
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date from 1900 to 9000."))


class FiguresForm(ReportForm):
    """The period and the policy profile of the managers' figures."""

    profile = SelectField(_l("Policy profile"), validators=[Optional()])
