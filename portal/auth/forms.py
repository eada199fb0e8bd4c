"""Forms for enrolment, sign-in and password reset. Field names are a contract: browser tests
and other pages rely on them."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from portal.auth.passwords import MAX_LENGTH, MIN_LENGTH, PasswordProblem, password_problem
from portal.core.inputs import PortalForm

PASSWORD_MESSAGES = {
    PasswordProblem.TOO_SHORT: _l("Use at least 10 characters."),
    PasswordProblem.TOO_LONG: _l("Use at most 128 characters."),
    PasswordProblem.TOO_COMMON: _l("This password is too easy to guess. Try a few unrelated "
                                   "words together, or a longer mix of letters, numbers and "
                                   "symbols."),
    PasswordProblem.PERSONAL: _l("Do not use your name, phone number, email address or date "
                                 "of birth in your password."),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _digits_only(value):
    return re.sub(r"\s", "", value) if isinstance(value, str) else value


class EnrolForm(PortalForm):
    account_number = StringField(_l("Account number"), filters=[_digits_only],
                                 validators=[DataRequired(_l("Enter your account number.")),
                                             Length(max=32)])
    date_of_birth = DateField(_l("Date of birth"),
                              validators=[InputRequired(_l("Enter your date of birth."))])
    card_last4 = StringField(_l("Last four digits of your card"), filters=[_digits_only],
                             validators=[DataRequired(_l("Enter the last four digits of your card.")),
                                         Length(min=4, max=4, message=_l("Enter four digits."))])


class CodeForm(PortalForm):
    code = StringField(_l("6-digit code"), filters=[_digits_only],
                       validators=[DataRequired(_l("Enter the code we sent you."))])

    def validate_code(self, field):
        if not re.fullmatch(r"\d{6}", field.data or ""):
            raise ValidationError(_l("The code has 6 digits."))


class NewPasswordForm(PortalForm):
    """Choose a password; `user_inputs` (name, phone, ...) must be set before validating."""

    password = PasswordField(_l("New password"),
                             validators=[DataRequired(_l("Choose a password."))])
    confirm = PasswordField(_l("Type the password again"),
                            validators=[DataRequired(_l("Type the password again.")),
                                        EqualTo("password", _l("The two passwords are not the same."))])

    def __init__(self, *args, user_inputs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_inputs = list(user_inputs)

    def validate_password(self, field):
        problem = password_problem(field.data or "", self.user_inputs)
        if problem:
            raise ValidationError(PASSWORD_MESSAGES[problem])


class LoginForm(PortalForm):
    identity = StringField(_l("Mobile number or email"), filters=[_strip],
                           validators=[DataRequired(_l("Enter your mobile number or email.")),
                                       Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=MAX_LENGTH)])
    next = HiddenField()


class ForgotForm(PortalForm):
    identity = StringField(_l("Mobile number or email"), filters=[_strip],
                           validators=[DataRequired(_l("Enter your mobile number or email.")),
                                       Length(max=254)])


class EmptyForm(PortalForm):
    """Only the CSRF token: for buttons such as "send a new code"."""


__all__ = ["EnrolForm", "CodeForm", "NewPasswordForm", "LoginForm", "ForgotForm", "EmptyForm",
           "MIN_LENGTH"]
