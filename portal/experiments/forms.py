"""The form risk fills in to define an experiment, and the labels of its choices."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.core.inputs import PortalForm
from portal.experiments.rules import (MAX_FIRST_DUE_DAYS, MAX_NAME, REMINDER_VARIANTS,
                                      Definition, parse_counts)

KIND_LABELS = {"offers": _l("Ready-made plan offers"),
               "reminder": _l("Wording of the reminder that a plan payment is due soon")}
TEMPLATE_LABELS = {"standard": _l("Standard: amount, date and a link to pay"),
                   "short": _l("Short: one sentence with the amount, date and link")}
OUTCOME_LABELS = {"plan_agreed": _l("Agreed a plan"),
                  "plans_kept": _l("Plans kept"),
                  "paid_30_days": _l("Paid within 30 days of the start"),
                  "cured": _l("Back to current (nothing overdue)")}
ERRORS = {
    "name": _l("Enter a name of up to 60 characters."),
    "kind": _l("Choose what the experiment varies."),
    "profile": _l("Choose a policy profile."),
    "start_past": _l("The start cannot be in the past."),
    "end_before_start": _l("The end must not be before the start."),
    "too_far": _l("Start within a year from today and end within a year of the start."),
    "split": _l("Enter a share from 1 to 99."),
    "counts": _l("Enter the numbers of instalments separated by commas, each from 1 to 120."),
    "first_due_days": _l("Enter a number of days from 0 to 60."),
    "template": _l("Choose a wording."),
    "same_arms": _l("The two arms must differ in what the experiment varies."),
    "overlap": _l("Another experiment of this kind runs on this profile at the same time."),
    "already_stopped": _l("This experiment has already been stopped."),
    "already_ended": _l("This experiment has already ended."),
    "settings": _l("Fill in the settings of both arms."),
}


class ExperimentForm(PortalForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=MAX_NAME)])
    kind = SelectField(_l("What varies"), choices=list(KIND_LABELS.items()))
    profile = SelectField(_l("Policy profile"))
    starts_on = DateField(_l("Starts on"), validators=[InputRequired()])
    ends_on = DateField(_l("Ends on"), validators=[InputRequired()])
    challenger_percent = IntegerField(_l("Share of accounts in the challenger arm (%)"),
                                      validators=[InputRequired(), NumberRange(1, 99)],
                                      default=50)
    a_name = StringField(_l("Name of the champion arm"),
                         validators=[InputRequired(), Length(max=MAX_NAME)])
    b_name = StringField(_l("Name of the challenger arm"),
                         validators=[InputRequired(), Length(max=MAX_NAME)])
    a_counts = StringField(_l("Champion: numbers of instalments offered"),
                           validators=[Optional(), Length(max=100)])
    a_first_due_days = IntegerField(_l("Champion: first payment due after (days)"),
                                    validators=[Optional(), NumberRange(0, MAX_FIRST_DUE_DAYS)])
    b_counts = StringField(_l("Challenger: numbers of instalments offered"),
                           validators=[Optional(), Length(max=100)])
    b_first_due_days = IntegerField(_l("Challenger: first payment due after (days)"),
                                    validators=[Optional(), NumberRange(0, MAX_FIRST_DUE_DAYS)])
    a_template = SelectField(_l("Champion: wording"), choices=list(TEMPLATE_LABELS.items()))
    b_template = SelectField(_l("Challenger: wording"), choices=list(TEMPLATE_LABELS.items()),
                             default="short")

    def definition(self) -> Definition:
        kind = self.kind.data

        def settings(arm):
            if kind == "offers":
                counts = parse_counts(getattr(self, f"{arm}_counts").data or "")
                days = getattr(self, f"{arm}_first_due_days").data
                return {"counts": counts, "first_due_days": days}
            return {"template": getattr(self, f"{arm}_template").data}

        return Definition(
            name=self.name.data or "", kind=kind, profile=self.profile.data,
            starts_on=self.starts_on.data, ends_on=self.ends_on.data,
            challenger_percent=self.challenger_percent.data,
            arm_names={"a": self.a_name.data or "", "b": self.b_name.data or ""},
            settings={"a": settings("a"), "b": settings("b")})

    def show_errors(self, errors: list[tuple[str, str]]) -> None:
        """Put each (field, code) next to its field (the form's own errors otherwise)."""
        for name, code in errors:
            message = str(ERRORS.get(code, code))
            target = self._fields.get(name)
            if target is None and name.startswith(("a_", "b_")):
                arm, key = name.split("_", 1)
                target = self._fields.get(f"{arm}_{'counts' if key == 'settings' else key}")
            if target is not None:
                target.errors = [*target.errors, message]
            else:
                self.form_errors.append(message)


assert set(TEMPLATE_LABELS) == set(REMINDER_VARIANTS)
