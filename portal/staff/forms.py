"""Staff sign-in forms. Field names are a contract for the browser tests."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.core.inputs import PortalForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _no_spaces(value):
    return "".join(value.split()) if isinstance(value, str) else value


class StaffLoginForm(PortalForm):
    email = EmailField(_l("Work email"), filters=[_strip],
                       validators=[DataRequired(_l("Enter your work email.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=128)])
    next = HiddenField()


class TotpForm(PortalForm):
    code = StringField(_l("Code from your authenticator app"), filters=[_no_spaces],
                       validators=[DataRequired(_l("Enter the 6-digit code from your app.")),
                                   Length(min=6, max=6, message=_l("The code has 6 digits."))])
