"""Forms of the legal workspace: the profile filter, recording a step, correcting one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import MoneyField
from portal.core.inputs import PortalForm
from portal.legal.models import LegalActionKind
from portal.legal.services import MAX_NOTE, MAX_REFERENCE

# What staff read for each kind (the cardholder reads whole sentences, see the templates).
KIND_LABELS = {
    LegalActionKind.FORMAL_NOTICE_SENT: _l("Formal notice sent"),
    LegalActionKind.CLAIM_FILED: _l("Claim filed"),
    LegalActionKind.HEARING_SCHEDULED: _l("Hearing scheduled"),
    LegalActionKind.JUDGMENT_ENTERED: _l("Judgment entered"),
    LegalActionKind.JUDGMENT_SATISFIED: _l("Judgment satisfied"),
    LegalActionKind.REFERRAL_WITHDRAWN: _l("Referral withdrawn"),
    LegalActionKind.CORRECTION: _l("Correction"),
}

# LegalActionRefused codes -> the message shown on the field.
REFUSAL_MESSAGES = {
    "unknown_kind": _l("Choose the step that was taken."),
    "future_date": _l("The date cannot be in the future. Record a step once it has happened."),
    "hearing_date_missing": _l("Enter the date of the hearing."),
    "hearing_date_not_for_kind": _l("A hearing date applies only to a scheduled hearing."),
    "hearing_before_step": _l("The hearing cannot be before the day it was scheduled."),
    "amount_not_for_kind": _l("An amount applies only to a claim or a judgment."),
    "amount_not_positive": _l("Enter an amount greater than zero."),
    "reference_too_long": _l("Keep the court and reference under 200 characters."),
    "note_too_long": _l("Keep the note under 4000 characters."),
    "reason_missing": _l("Say why this entry is wrong."),
    "unknown_entry": _l("This entry cannot be corrected."),
    "already_corrected": _l("This entry has already been corrected."),
}


class ProfileFilterForm(PortalForm):
    """GET filter; nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    profile = SelectField(_l("Policy profile"), validators=[Optional()])


class LegalActionForm(PortalForm):
    kind = SelectField(_l("Step taken"), validators=[
        DataRequired(message=_l("Choose the step that was taken."))])
    occurred_on = DateField(_l("Date of the step"), validators=[
        DataRequired(message=_l("Enter the date of the step, for example 2027-03-03."))])
    hearing_on = DateField(_l("Hearing date (for a scheduled hearing)"), validators=[Optional()])
    court_reference = StringField(_l("Court and case reference (optional, shown to the "
                                     "cardholder)"), validators=[Optional(), Length(
                                         max=MAX_REFERENCE, message=REFUSAL_MESSAGES[
                                             "reference_too_long"])])
    amount = MoneyField(_l("Amount (optional, for a claim or a judgment)"),
                        validators=[Optional()])
    note = TextAreaField(_l("Internal note (staff only, never shown to the cardholder)"),
                         validators=[Optional(), Length(max=MAX_NOTE, message=REFUSAL_MESSAGES[
                             "note_too_long"])])
    submit = SubmitField(_l("Record this step"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("Choose a step"))] + [
            (k.value, KIND_LABELS[k]) for k in LegalActionKind
            if k is not LegalActionKind.CORRECTION]


class CorrectionForm(PortalForm):
    reason = TextAreaField(_l("Why is this entry wrong?"), validators=[
        DataRequired(message=REFUSAL_MESSAGES["reason_missing"]),
        Length(max=MAX_NOTE, message=REFUSAL_MESSAGES["note_too_long"])])
    submit = SubmitField(_l("Mark as recorded in error"))
