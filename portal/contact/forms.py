"""Contact preference forms: the signed-in page and the no-login opt-out confirmation."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField

from portal.core.inputs import PortalForm


class PreferencesForm(PortalForm):
    email_on = BooleanField(_l("Emails about my account"))
    sms_on = BooleanField(_l("Text messages about my account"))
    submit = SubmitField(_l("Save my choices"))


class OptOutForm(PortalForm):
    submit = SubmitField(_l("Yes, stop these emails"))
