"""The risk role's policy editor: versions, a prefilled edit form, a preview, publishing."""
from __future__ import annotations

import json
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.auth.session import staff_required
from portal.core.nav import staff_entry
from portal.core.today import staff_today
from portal.extensions import db
from portal.policy import drafts, section_fields
from portal.policy.forms import KIND_LABELS, attach_errors, fill_form, form_to_document, \
    policy_form
from portal.policy.rules import PolicyInvalid, parse_policy, section_errors
from portal.policy.services import UnknownProfile, all_profiles, policy_for, policy_version, \
    policy_versions, publish

bp = Blueprint("policy", __name__, url_prefix="/staff/risk/policies")
NAV = (
    staff_entry("policy.index", _l("Policies"), roles=("risk",), order=40),
)
risk_only = staff_required("risk")

# What publishing would change (portal.consequences.preview.preview_change, which runs the
# consequences engine over the profile's accounts): registered in portal.wiring.
_previews: list[Callable] = []


def register_preview(preview: Callable) -> None:
    """The preview shown before publishing: (profile, current, proposed, as_of) -> counts."""
    _previews[:] = [preview]


@bp.get("/")
@risk_only
def index():
    today = staff_today()
    profiles = [(p, policy_for(p, today).version, policy_versions(p)) for p in all_profiles()]
    return render_template("policy/index.html", profiles=profiles)


@bp.get("/<profile>/v<int:version>")
@risk_only
def version(profile, version):
    try:
        policy = policy_version(profile, version)
    except UnknownProfile:
        abort(404)
    return render_template("policy/version.html", policy=policy, kind_labels=KIND_LABELS,
                           sections=section_fields.facts(policy.document),
                           raw=json.dumps(policy.document, indent=2, ensure_ascii=False))


@bp.route("/<profile>/new", methods=["GET", "POST"])
@risk_only
def edit(profile):
    today = staff_today()
    try:
        current = policy_for(profile, today)
    except UnknownProfile:
        abort(404)
    form = policy_form(current.document, formdata=request.form if request.method == "POST"
                       else None)
    if request.method == "GET":
        fill_form(form, current.document, today)
        return _render(form, current)
    if not form.validate():
        return _render(form, current), 422
    document, problems = form_to_document(form, current.document)
    errors = [(name, code) for name, code in problems]
    proposed = None
    if not problems:
        try:
            proposed = parse_policy(document, profile=profile, version=current.version + 1,
                                    effective_from=form.effective_from.data)
        except PolicyInvalid as exc:
            errors += [(e.path, e.code) for e in exc.errors]
        # Sections other features read (contact reminders, payments): refused at preview
        # already, not only when publishing.
        errors += [(e.path, e.code) for e in section_errors(document)]
    if form.effective_from.data < today:
        errors.append(("effective_from", "effective_in_past"))
    if errors:
        attach_errors(form, errors)
        return _render(form, current), 422
    refusal = drafts.check_draft(form, profile, document, current_user,
                                 publishing=bool(form.publish.data))
    if form.publish.data and not refusal:
        try:
            row = publish(profile, document, form.effective_from.data, current_user,
                          today=today, note=form.note.data or None)
            db.session.commit()
        except PolicyInvalid as exc:
            db.session.rollback()
            attach_errors(form, [(e.path, e.code) for e in exc.errors])
            return _render(form, current), 422
        flash(_("Version %(version)s of %(profile)s is published.", version=row.version,
                profile=profile), "success")
        return redirect(url_for("policy.version", profile=profile, version=row.version))
    if refusal == "not_confirmed":
        form.confirm.errors = [drafts.MESSAGES[refusal]]
    elif refusal:
        form.form_errors.append(drafts.MESSAGES[refusal])
    before = policy_for(profile, form.effective_from.data)
    if not _previews:  # create_app wires it; a page without its preview must not publish
        raise RuntimeError("no policy preview registered: call portal.wiring.wire() first")
    preview = _previews[0](profile, before, proposed, today)
    return _render(form, current, preview=preview), 422 if refusal else 200


def _render(form, current, preview=None):
    return render_template("policy/edit.html", form=form, current=current, preview=preview,
                           kind_labels=KIND_LABELS, freezable=section_fields.FREEZABLE,
                           care_kinds=[(k, section_fields.CARE_KIND_LABELS[k])
                                       for k in section_fields.CARE_KINDS])
