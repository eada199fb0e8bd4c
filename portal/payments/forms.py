"""Payment forms. Card fields exist only on the sandbox's test-mode page."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from portal.core.forms import MoneyField
from portal.core.inputs import PortalForm
from portal.payments.models import PaymentChoice


class PayForm(PortalForm):
    choice = RadioField(_l("What would you like to pay?"),
                        validators=[InputRequired(message=_l("Please choose what to pay."))])
    other_amount = MoneyField(_l("Other amount"), validators=[Length(max=24)])
    currency = HiddenField()
    nonce = HiddenField(validators=[DataRequired()])
    # The amount whose plan schedule the page has shown (portal.payments.ahead).
    previewed = HiddenField(validators=[Length(max=24)])
    submit = SubmitField(_l("Continue to payment"))

    def validate_other_amount(self, field):
        if self.choice.data == PaymentChoice.OTHER.value and not (field.data or "").strip():
            raise ValidationError(_l("Please enter an amount such as 100.00."))


class SandboxCardForm(PortalForm):
    card_number = StringField(_l("Card number"), validators=[
        DataRequired(message=_l("Please enter the card number.")),
        Regexp(r"^[0-9 ]{12,23}$", message=_l("Please enter the card number in digits."))])
    expiry = StringField(_l("Expiry date (MM/YY)"), validators=[
        DataRequired(message=_l("Please enter the expiry date.")),
        Regexp(r"^(0[1-9]|1[0-2])\s*/\s*[0-9]{2}$", message=_l("Please enter the expiry date as MM/YY."))])
    cvc = StringField(_l("Security code"), validators=[
        DataRequired(message=_l("Please enter the security code.")),
        Regexp(r"^[0-9]{3,4}$", message=_l("Please enter the 3 or 4 digit security code."))])
    submit = SubmitField(_l("Pay now"))


class SandboxAuthForm(PortalForm):
    approve = SubmitField(_l("Confirm the payment"))
    decline = SubmitField(_l("Do not confirm"))


class AutopaySetupForm(SandboxCardForm):
    consent = BooleanField(validators=[DataRequired(message=_l("Please tick the box to agree."))])
    nonce = HiddenField()
    submit = SubmitField(_l("Save the card and turn on automatic payments"))


class StripeSetupConsentForm(PortalForm):
    consent = BooleanField(validators=[DataRequired(message=_l("Please tick the box to agree."))])
    submit = SubmitField(_l("Continue"))


class CancelPaymentForm(PortalForm):
    submit = SubmitField(_l("Cancel this payment"))


class ToggleForm(PortalForm):
    submit = SubmitField(_l("Save"))


class RefundForm(PortalForm):
    amount = MoneyField(_l("Amount to refund"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    request_key = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Refund"))


class RecheckForm(PortalForm):
    """The Stripe page's check just before it confirms: the CSRF token only."""
