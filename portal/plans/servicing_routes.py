"""Cardholder pages for changing an agreed plan: choose a change, read the new schedule and
the re-issued agreement, agree to it; and each version of the agreement as a PDF."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext as _
from flask_login import current_user

from portal.accounts.queries import owned_account_or_404
from portal.auth.session import cardholder_required
from portal.balances.services import today_for
from portal.core.filters import local_time
from portal.extensions import db
from portal.plans import agreement, lifecycle, servicing
from portal.plans.blueprint import bp
from portal.plans.messages import ERRORS
from portal.plans.models import PlanStatus
from portal.plans.routes import owned_plan_or_404
from portal.plans.servicing_forms import ChangeConsentForm, ChangeForm
from portal.plans.servicing_rules import ServicingRefused, allowed_kinds
from portal.plans.servicing_text import refusal_text
from portal.timeutil import utcnow


def _plan(account_id, plan_id):
    account = owned_account_or_404(account_id)
    return account, owned_plan_or_404(account, plan_id)


@bp.get("/accounts/<int:account_id>/plans/<int:plan_id>/change")
@cardholder_required
def change(account_id, plan_id):
    account, plan = _plan(account_id, plan_id)
    if plan.status != PlanStatus.ACTIVE:
        flash(refusal_text("not_active", None), "error")
        return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))
    today = today_for(account)
    policy = servicing.servicing_policy(plan, today)
    counts = servicing.counts_for(servicing.revisions_of(plan))
    refusals = {k: refusal_text(v, policy) if v else None
                for k, v in allowed_kinds(policy, counts).items()}
    return render_template("plans/change.html", account=account, plan=plan, policy=policy,
                           counts=counts, refusals=refusals, today=today,
                           unpaid=[i for i in plan.instalments if i.status != "paid"])


def _change_from(values) -> servicing.Change | None:
    form = ChangeForm(values)
    if not form.validate():
        return None
    return servicing.Change(form.kind.data, form.seq.data, form.new_date.data)


@bp.route("/accounts/<int:account_id>/plans/<int:plan_id>/change/review",
          methods=["GET", "POST"])
@cardholder_required
def change_review(account_id, plan_id):
    account, plan = _plan(account_id, plan_id)
    back = redirect(url_for("plans.change", account_id=account.id, plan_id=plan.id))
    values = request.form if request.method == "POST" else request.args
    wanted = _change_from(values)
    if wanted is None or (wanted.kind != "date_change" and wanted.seq is None) or (
            wanted.kind != "skip" and wanted.new_date is None):
        flash(_("Choose a payment and a date for the change."), "error")
        return back
    today, locale = today_for(account), str(get_locale())
    form = ChangeConsentForm()
    try:
        shown = servicing.preview(plan, wanted, today, locale)
        if request.method == "POST" and form.validate_on_submit():
            consent = lifecycle.Consent(form.terms_hash.data, locale, request.remote_addr,
                                        request.user_agent.string, utcnow())
            servicing.apply(plan, wanted, consent, today, actor=("cardholder", current_user.id))
            db.session.commit()
            flash(_("Your plan is changed. The new agreement is ready to download."), "success")
            return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))
    except ServicingRefused as exc:
        db.session.rollback()
        flash(refusal_text(exc.code, servicing.servicing_policy(plan, today)), "error")
        return back
    except lifecycle.PlanError as exc:
        db.session.rollback()
        flash(str(ERRORS[exc.code]), "error")
        shown = servicing.preview(plan, wanted, today, locale)
        form = ChangeConsentForm(formdata=None)
    form.kind.data, form.seq.data = wanted.kind, wanted.seq or ""
    form.new_date.data = wanted.new_date.isoformat() if wanted.new_date else ""
    form.terms_hash.data = shown.hash
    status = 422 if request.method == "POST" else 200
    return render_template("plans/change_review.html", account=account, plan=plan, form=form,
                           shown=shown, sentence=servicing.change_sentence(
                               wanted, agreement.babel_locale(locale))), status


@bp.get("/accounts/<int:account_id>/plans/<int:plan_id>/agreements/<int:number>.pdf")
@cardholder_required
def agreement_version(account_id, plan_id, number):
    """Version `number` of the plan's agreement: 1 as first agreed, then one per change."""
    account, plan = _plan(account_id, plan_id)
    revisions = servicing.revisions_of(plan)
    if plan.accepted_at is None or not 1 <= number <= len(revisions) + 1:
        abort(404)
    if number == 1:
        text = revisions[0].previous_terms_text if revisions else plan.terms_text
        when, digest = plan.accepted_at, revisions[0].previous_terms_hash if revisions \
            else plan.terms_hash
        locale = plan.terms_locale or str(get_locale())
    else:
        rev = revisions[number - 2]
        text, when, digest, locale = rev.terms_text, rev.consent_at, rev.terms_hash, rev.terms_locale
    if not text:
        abort(404)
    with force_locale(locale):
        footer = _("Agreed on %(when)s. Terms fingerprint (SHA-256): %(hash)s",
                   when=local_time(when, ZoneInfo(account.cardholder.timezone)), hash=digest)
    response = make_response(agreement.agreement_pdf(text.split("\n"), footer=footer,
                                                     locale=locale))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="plan-{plan.id}-v{number}.pdf"'
    return response
