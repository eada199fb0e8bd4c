"""Forms for changing an agreed plan's schedule (portal.plans.servicing_routes)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from portal.core.inputs import PortalForm


class ChangeForm(PortalForm):
    """What the cardholder asks for, sent by GET to the review page (nothing changes yet)."""

    class Meta:
        csrf = False

    kind = SelectField(choices=[("date_change", _l("New payment date")),
                                ("delay", _l("Delay one payment")),
                                ("skip", _l("Skip one payment"))],
                       validators=[InputRequired()])
    seq = IntegerField(_l("Payment"), validators=[Optional(), NumberRange(1, 10_000)])
    new_date = DateField(_l("New date"), validators=[Optional()])


class ChangeConsentForm(PortalForm):
    kind = HiddenField()
    seq = HiddenField()
    new_date = HiddenField()
    terms_hash = HiddenField(validators=[DataRequired()])
    consent = BooleanField(_l("I have read the new terms and the payment schedule and I agree to them."),
                           validators=[DataRequired(_l("Tick the box to agree to the terms."))])
