"""The plan-limits form page (route in risk_routes): prefill, preview, publish."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.extensions import db
from portal.plans import limits_form, limits_preview
from portal.policy import drafts
from portal.policy.rules import PolicyInvalid
from portal.policy.services import all_profiles, policy_for, publish
from portal.timeutil import utcnow


def edit_limits():
    """GET: the form prefilled from the version in force today. POST `preview`: the form with
    what would change. POST `publish`: a new version from the effective date (nothing is
    written while any field has an error)."""
    profiles = all_profiles()
    profile = request.values.get("profile") or profiles[0]
    if profile not in profiles:
        abort(404)
    today = utcnow().date()
    current = policy_for(profile, today)
    section = current.section("plans", {})
    currencies = limits_form.currencies_of(section)
    form = limits_form.build_form_class(currencies)()
    if request.method == "GET":
        limits_form.fill(form, section, currencies)
        form.effective_from.data = today
    problems: list[tuple[str, str]] = []
    diff = None
    if form.validate_on_submit():
        edited, unreadable = limits_form.to_section(form, section, currencies)
        for field, message in unreadable.items():
            field.errors = list(field.errors) + [message]
        if not unreadable:
            problems = limits_form.check(form, edited)
        if form.effective_from.data < today:
            form.effective_from.errors = [_("The date cannot be in the past.")]
        if not (problems or limits_preview.has_errors(form)):
            diff = limits_preview.changes(section, edited)
            document = {k: v for k, v in current.document.items()
                        if k not in ("profile", "version", "effective_from", "note")}
            document["plans"] = edited
            refusal = drafts.check_draft(form, profile, document, current_user,
                                         publishing="publish" in request.form)
            if refusal == "not_confirmed":
                form.confirm.errors = [drafts.MESSAGES[refusal]]
            elif refusal:
                form.form_errors.append(drafts.MESSAGES[refusal])
            if "publish" in request.form and not refusal:
                problems = publish_limits(profile, document, form, today)
                if not problems:
                    return redirect(url_for(".plan_limits", profile=profile))
    invalid = form.is_submitted() and (limits_preview.has_errors(form) or bool(problems))
    refused = bool(form.form_errors or form.confirm.errors)
    return render_template("plans/risk_limits.html", form=form, profile=profile,
                           profiles=profiles, version=current.version, problems=problems,
                           preview=limits_preview.preview_rows(form, diff) if diff is not None
                           else None, invalid=invalid,
                           messages=limits_form.MESSAGES), 422 if invalid or refused else 200


def publish_limits(profile: str, document: dict, form, today) -> list[tuple[str, str]]:
    """Publish a plan-limits draft (committed) and say so; on PolicyInvalid roll back and
    return its (path, code) errors. Both plan-limits pages publish through here."""
    try:
        row = publish(profile, document, form.effective_from.data, actor=current_user,
                      today=today, note=form.note.data or None)
        db.session.commit()
    except PolicyInvalid as exc:
        db.session.rollback()
        return [(e.path, e.code) for e in exc.errors]
    flash(_("Version %(version)s of %(profile)s is published.", version=row.version,
            profile=profile), "success")
    return []
