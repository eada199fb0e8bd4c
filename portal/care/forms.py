"""Forms for recording and ending a care record."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.care.labels import KIND_LABELS, REASON_LABELS
from portal.care.rules import KINDS, REASONS
from portal.core.inputs import PortalForm

MAX_NOTE = 2000


class CareForm(PortalForm):
    kind = SelectField(_l("What to record"), choices=[], validate_choice=False, validators=[
        DataRequired(message=_l("Choose what is recorded and why."))])
    starts_on = DateField(_l("From"), validators=[
        DataRequired(message=_l("Enter the first day, for example 2027-03-03."))])
    ends_on = DateField(_l("Until (optional)"), validators=[Optional()])
    note = TextAreaField(_l("Note (staff with access only, never shown to the cardholder)"),
                         validators=[Optional(), Length(max=MAX_NOTE, message=_l(
                             "Keep the note under 2,000 characters."))])
    submit = SubmitField(_l("Record"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("Choose one"))] + [
            (f"{kind}:{reason}", f"{KIND_LABELS[kind]}: {REASON_LABELS[reason]}")
            for kind in KINDS for reason in REASONS[kind]]

    def kind_and_reason(self) -> tuple[str, str]:
        kind, _, reason = (self.kind.data or "").partition(":")
        return kind, reason


class EndCareForm(PortalForm):
    reason = TextAreaField(_l("Why does it end early?"), validators=[
        DataRequired(message=_l("Say why it ends early.")),
        Length(max=MAX_NOTE, message=_l("Keep the note under 2,000 characters."))])
    submit = SubmitField(_l("End from today"))
