"""The light check a one-tap link asks before it shows anything about the account."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from portal.core.inputs import PortalForm


def _no_spaces(value):
    return re.sub(r"\s", "", value) if isinstance(value, str) else value


class LightCheckForm(PortalForm):
    card_last4 = StringField(_l("Last four digits of your card"), filters=[_no_spaces],
                             validators=[DataRequired(_l("Enter the last four digits of your card.")),
                                         Regexp(r"^[0-9]{4}\Z", message=_l("Enter four digits."))])
