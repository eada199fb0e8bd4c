"""The risk team's editor for plan limits: a form for the common knobs (with a preview of
what changes) and an advanced JSON editor for everything else (per-stage overrides); both
publish a new version of the profile document through the policy service."""
from __future__ import annotations

import json

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.auth.session import staff_required
from portal.core.inputs import PortalForm
from portal.core.nav import staff_entry
from portal.core.today import staff_today
from portal.plans.blueprint import staff_bp
from portal.plans.limits_preview import changes
from portal.plans.limits_view import edit_limits, publish_limits
from portal.policy import drafts
from portal.plans.rules import validate_plans_section
from portal.plans.servicing_rules import unusable_keys as servicing_unusable
from portal.policy.services import all_profiles, policy_for

NAV = (
    staff_entry("plan_review.plan_limits", _l("Plan limits"), ("risk",), order=60),
)


class PlanLimitsForm(PortalForm):
    profile = SelectField(_l("Policy profile"))
    section = TextAreaField(_l("Plan limits (JSON)"), validators=[DataRequired(), Length(max=50_000)])
    effective_from = DateField(_l("In force from"), validators=[InputRequired()])
    note = StringField(_l("Note for the version history"), validators=[Optional(), Length(max=500)])
    draft = HiddenField()  # the previewed draft's fingerprint (portal.policy.drafts)
    confirm = BooleanField(_l("I have read the changes above and want to publish them"))


@staff_bp.route("/risk/plan-limits", methods=["GET", "POST"])
@staff_required("risk")
def plan_limits():
    """The form; with `advanced=1` the JSON editor (every key, per-stage overrides too)."""
    if request.values.get("advanced"):
        return _plan_limits_json()

    return edit_limits()


def _servicing_errors(section) -> list[tuple[str, str]]:
    if not isinstance(section, dict):
        return [("servicing", "invalid")]
    return [(f"servicing.{key}" if key else "servicing", "invalid")
            for key in servicing_unusable(section)]


# The sections the JSON editor edits (`advanced=1`: plans; `advanced=servicing`: the limits on
# changing an agreed plan), each with the check that refuses what its feature cannot read.
JSON_SECTIONS = {"1": ("plans", validate_plans_section),
                 "servicing": ("servicing", _servicing_errors)}


def _plan_limits_json():
    profiles = all_profiles()
    profile = request.values.get("profile") or profiles[0]
    advanced = "servicing" if request.values.get("advanced") == "servicing" else "1"
    if profile not in profiles:
        abort(404)
    name, validate = JSON_SECTIONS[advanced]
    today = staff_today()
    current = policy_for(profile, today)
    form = PlanLimitsForm()
    form.profile.choices = [(p, p) for p in profiles]
    if request.method == "GET":
        form.profile.data = profile
        form.section.data = json.dumps(current.section(name, {}), indent=2, ensure_ascii=False)
        form.effective_from.data = today
    errors: list[str] = []
    diff = None
    if form.validate_on_submit():
        try:
            section = json.loads(form.section.data)
        except ValueError:
            section = None
            errors.append(_("The plan limits are not valid JSON."))
        if section is not None:
            errors += [f"{path}: {code}" for path, code in validate(section)]
        if not errors:
            document = {k: v for k, v in current.document.items()
                        if k not in ("profile", "version", "effective_from", "note")}
            document[name] = section
            refusal = drafts.check_draft(form, profile, document, current_user,
                                         publishing="publish" in request.form)
            if "publish" in request.form and not refusal:
                failed = publish_limits(profile, document, form, today)
                if not failed:
                    return redirect(url_for(".plan_limits", profile=profile, advanced=advanced))
                errors += [f"{path}: {code}" for path, code in failed]
            else:  # the preview: what changes, and the fingerprint publishing asks back
                errors += [str(drafts.MESSAGES[refusal])] if refusal else []
                diff = changes(current.section(name, {}), section)
    status = 422 if form.is_submitted() and (errors or diff is None) else 200
    return render_template("plans/risk_limits_json.html", form=form, profile=profile,
                           version=current.version, errors=errors, diff=diff,
                           advanced=advanced), status
