"""Forms for changing an agreed plan's schedule (portal.plans.servicing_routes)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.core.inputs import PortalForm
from portal.plans.forms import CounterConsentForm


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


class ChangeConsentForm(CounterConsentForm):
    """Consent to the re-issued agreement, as to a counter-offer, with the change it is for."""
    kind = HiddenField()
    seq = HiddenField()
    new_date = HiddenField()
