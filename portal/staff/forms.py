"""Staff sign-in, staff management and set-up forms. Field names are a contract for the browser tests."""
from flask_babel import lazy_gettext as _l
from wtforms import (EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField,
                     StringField, widgets)
from wtforms.validators import DataRequired, Email, Length, ValidationError

from portal.auth.forms import NewPasswordForm
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


class RoleCheckboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _at_least_one(form, field):
    # Not DataRequired: its "required" flag would mark every single checkbox as required.
    if not field.data:
        raise ValidationError(_l("Choose at least one role."))


def _role_field():
    return RoleCheckboxes(_l("Roles"), choices=[], validators=[_at_least_one])


class RolesForm(PortalForm):
    """The roles of a staff member; `choices` are set by the route (translated names)."""
    roles = _role_field()


class MemberForm(PortalForm):
    name = StringField(_l("Full name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the person's full name.")),
                                   Length(max=200)])
    email = EmailField(_l("Work email"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the person's work email.")),
                                   Length(max=254), Email(_l("Enter an email address such as "
                                                             "name@example.com."))])
    locale = SelectField(_l("Language of their emails"),
                         choices=[("en", "English"), ("zh_Hans", "简体中文")])
    roles = _role_field()


class ConfirmForm(PortalForm):
    """Only the CSRF token: for buttons that change one thing (switch off, reset)."""


class SetupForm(NewPasswordForm):
    code = StringField(_l("Code from your authenticator app"), filters=[_no_spaces],
                       validators=[DataRequired(_l("Enter the 6-digit code from your app.")),
                                   Length(min=6, max=6, message=_l("The code has 6 digits."))])
