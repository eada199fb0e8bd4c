"""Forms for cardholders and staff. Staff forms carry a prefix so several fit on one page
without clashing ids."""
from flask_babel import lazy_gettext as _l
from wtforms import (IntegerField, MultipleFileField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.core.forms import MoneyField
from portal.core.inputs import PortalForm
from portal.disputes import data, labels

MAX_TEXT = 4000


def category_choices():
    return [(c, labels.CATEGORY_LABELS[c]) for c in data.CATEGORIES]


class RaiseDisputeForm(PortalForm):
    category = SelectField(_l("What is the problem?"), choices=category_choices(),
                           validators=[DataRequired()])
    amount = MoneyField(_l("Amount you dispute (optional)"), validators=[Optional()])
    entries = SelectMultipleField(_l("Entries you dispute (optional)"), coerce=int,
                                  validators=[Optional()])
    description = TextAreaField(_l("Tell us what happened"),
                                validators=[DataRequired(message=_l("Please tell us what happened.")),
                                            Length(max=MAX_TEXT)])
    attachments = MultipleFileField(_l("Documents (optional)"))
    submit = SubmitField(_l("Send dispute"))


class CustomerReplyForm(PortalForm):
    body = TextAreaField(_l("Your message"), validators=[Length(max=MAX_TEXT)])
    attachments = MultipleFileField(_l("Add documents"))
    submit = SubmitField(_l("Send"))


class WithdrawForm(PortalForm):
    submit = SubmitField(_l("Withdraw this dispute"))


def template_choices():
    return [("", _l("No template"))] + [(k, labels.TEMPLATE_LABELS.get(k, k))
                                       for k in data.REPLY_TEMPLATES]


class StaffMessageForm(PortalForm):
    kind = SelectField(_l("Type"), choices=[("reply", _l("Reply to the cardholder")),
                                            ("note", _l("Internal note"))])
    template = SelectField(_l("Reply template"), choices=template_choices(),
                           validators=[Optional()])
    body = TextAreaField(_l("Message"), validators=[Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Add message"))


class RequestDocumentsForm(PortalForm):
    template = SelectField(_l("Reply template"), choices=template_choices(),
                           validators=[Optional()])
    body = TextAreaField(_l("Documents needed"), validators=[Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Ask for documents"))


class ActionForm(PortalForm):
    submit = SubmitField(_l("Acknowledge"))


class ReassignForm(PortalForm):
    queue = SelectField(_l("Queue"), coerce=int)
    assignee = SelectField(_l("Agent"))
    submit = SubmitField(_l("Reassign"))


class EscalateForm(PortalForm):
    to = SelectField(_l("Escalate to"), choices=list(labels.ESCALATION_LABELS.items()))
    note = TextAreaField(_l("Why (internal)"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Escalate"))


class ResolveForm(PortalForm):
    outcome = SelectField(_l("Outcome"), choices=list(labels.OUTCOME_LABELS.items()))
    amount = MoneyField(_l("Amount to credit"), validators=[Optional()])
    reason = TextAreaField(_l("Reason the cardholder will read"),
                           validators=[DataRequired(), Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Resolve"))


class LegalForm(PortalForm):
    step = SelectField(_l("Legal step"), choices=[("", _l("None, just a note"))]
                       + list(labels.LEGAL_STEP_LABELS.items()), validators=[Optional()])
    note = TextAreaField(_l("Note (internal, never shown to the cardholder)"),
                         validators=[Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Record"))


class ApproveForm(PortalForm):
    submit = SubmitField(_l("Approve and apply"))


class RefuseForm(PortalForm):
    note = TextAreaField(_l("Why not (internal)"), validators=[DataRequired(),
                                                               Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Send back"))


def any_choice(pairs):
    return [("", _l("Any"))] + list(pairs)


class RuleForm(PortalForm):
    priority = IntegerField(_l("Priority (lower is tried first)"), default=100,
                            validators=[DataRequired(), NumberRange(min=0, max=10_000)])
    category = SelectField(_l("Category"), choices=any_choice(category_choices()))
    language = SelectField(_l("Language"),
                           choices=any_choice(labels.LANGUAGE_LABELS.items()))
    min_amount = MoneyField(_l("Smallest amount"), validators=[Optional()])
    max_amount = MoneyField(_l("Largest amount"), validators=[Optional()])
    currency = StringField(_l("Currency of the amounts"), validators=[Optional(), Length(max=3)])
    queue = SelectField(_l("Queue"), coerce=int)
    submit = SubmitField(_l("Save rule"))


class MemberForm(PortalForm):
    queue = SelectField(_l("Queue"), coerce=int)
    email = StringField(_l("Staff email"), validators=[DataRequired(), Length(max=254)])
    languages = SelectMultipleField(_l("Languages spoken"),
                                    choices=list(labels.LANGUAGE_LABELS.items()))
    action = SelectField(_l("Change"), choices=[("add", _l("Add to queue")),
                                                ("remove", _l("Remove from queue"))])
    submit = SubmitField(_l("Save"))
