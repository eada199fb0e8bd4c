"""Cardholder plan pages for plans they have: the list, one plan, accepting or declining a
counter-offer, cancelling, the agreement PDF. Choosing a plan is in `proposal_routes`; staff
pages are in `review_routes`."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.accounts.queries import owned_account_or_404
from portal.auth.session import cardholder_required
from portal.balances.services import balance_of, today_for
from portal.core.filters import local_time
from portal.core.nav import cardholder_entry
from portal.extensions import db
from portal.plans import agreement, decisions, endings, lifecycle, servicing, services
from portal.plans.blueprint import bp
from portal.plans.forms import ConfirmForm, CounterConsentForm
from portal.plans.messages import ERRORS, STATUS, repriced_text
from portal.plans.models import Plan, PlanStatus
from portal.timeutil import utcnow

NAV = (
    cardholder_entry("plans.index", _l("Repayment plans"), order=30),
)


def owned_plan_or_404(account, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.account_id != account.id:
        abort(404)
    return plan


@bp.get("/plans")
@cardholder_required
def index():
    accounts = current_user.accounts
    rows = [(a, services.active_plan(a), services.open_proposal(a)) for a in accounts]
    return render_template("plans/index.html", rows=rows)


@bp.get("/accounts/<int:account_id>/plans")
@cardholder_required
def account_plans(account_id):
    account = owned_account_or_404(account_id)
    return render_template("plans/account.html", account=account,
                           active=services.active_plan(account),
                           pending=services.open_proposal(account),
                           plans=services.plans_of(account))


@bp.get("/accounts/<int:account_id>/plans/<int:plan_id>")
@cardholder_required
def show(account_id, plan_id):
    account = owned_account_or_404(account_id)
    plan = owned_plan_or_404(account, plan_id)
    counter_form = None
    lines = None
    if plan.status == PlanStatus.COUNTERED:
        locale = str(get_locale())
        counter_form = CounterConsentForm(terms_hash=lifecycle.plan_hash(plan, locale))
        ctx = lifecycle.context_for(account, plan.policy_version, plan.grace_days)
        lines = agreement.terms_lines(lifecycle.terms_of(plan), ctx, locale)
    return render_template("plans/show.html", account=account, plan=plan, lines=lines,
                           terms=lifecycle.terms_of(plan),
                           repriced=repriced_text(plan, account.currency)
                           if plan.status == PlanStatus.COUNTERED else [],
                           counter_form=counter_form, decline_form=ConfirmForm(),
                           changes=servicing.changes_listed(plan, str(get_locale())),
                           next_inst=services.next_instalment(account)
                           if plan.status == PlanStatus.ACTIVE else None)


@bp.post("/accounts/<int:account_id>/plans/<int:plan_id>/accept")
@cardholder_required
def accept_counter(account_id, plan_id):
    account = owned_account_or_404(account_id)
    plan = owned_plan_or_404(account, plan_id)
    form = CounterConsentForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to agree to the terms."), "error")
        return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))
    consent = lifecycle.Consent(form.terms_hash.data, str(get_locale()), request.remote_addr,
                                request.user_agent.string, utcnow())
    try:
        active = decisions.accept_counter(plan, consent, today_for(account))
        db.session.commit()
        if active:
            flash(_("Your plan is agreed. Thank you."), "success")
        else:
            flash(_("Your balance changed, so the terms changed again. Please read the new "
                    "terms and agree to them."), "error")
    except (lifecycle.PlanError, IntegrityError) as exc:
        db.session.rollback()
        flash(str(ERRORS.get(getattr(exc, "code", "already_active"))), "error")
    return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))


@bp.post("/accounts/<int:account_id>/plans/<int:plan_id>/decline")
@cardholder_required
def decline_counter(account_id, plan_id):
    account = owned_account_or_404(account_id)
    plan = owned_plan_or_404(account, plan_id)
    if not ConfirmForm().validate_on_submit() or plan.status != PlanStatus.COUNTERED:
        abort(400)
    try:
        endings.cancel(plan, today_for(account), "plan.counter_declined")
    except lifecycle.PlanError as exc:
        db.session.rollback()
        flash(str(ERRORS[exc.code]), "error")
        return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))
    db.session.commit()
    flash(_("You declined the offer. You can choose another plan."), "success")
    return redirect(url_for("plans.account_plans", account_id=account.id))


@bp.route("/accounts/<int:account_id>/plans/<int:plan_id>/cancel", methods=["GET", "POST"])
@cardholder_required
def cancel(account_id, plan_id):
    account = owned_account_or_404(account_id)
    plan = owned_plan_or_404(account, plan_id)
    if plan.status not in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.COUNTERED):
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            endings.cancel(plan, today_for(account))
        except lifecycle.PlanError as exc:
            db.session.rollback()
            flash(str(ERRORS[exc.code]), "error")
            return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))
        db.session.commit()
        flash(_("Your plan is cancelled."), "success")
        return redirect(url_for("plans.account_plans", account_id=account.id))
    return render_template("plans/cancel.html", account=account, plan=plan, form=form,
                           balance=balance_of(account))


@bp.get("/accounts/<int:account_id>/plans/<int:plan_id>/agreement.pdf")
@cardholder_required
def agreement_pdf(account_id, plan_id):
    account = owned_account_or_404(account_id)
    plan = owned_plan_or_404(account, plan_id)
    if plan.accepted_at is None or plan.status not in (
            PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.BROKEN, PlanStatus.CANCELLED,
            PlanStatus.IN_REVIEW):
        abort(404)
    locale = plan.terms_locale or str(get_locale())
    if plan.terms_text:  # the text as accepted, word for word
        lines = plan.terms_text.split("\n")
    else:  # accepted before the text was stored: printed from the terms in today's wording
        ctx = lifecycle.context_for(account, plan.policy_version, plan.grace_days)
        lines = agreement.terms_lines(lifecycle.terms_of(plan), ctx, locale)
    revisions = servicing.revisions_of(plan)  # the text in force was agreed with the last change
    agreed_at = revisions[-1].consent_at if revisions else plan.accepted_at
    with force_locale(locale):
        footer = _("Agreed on %(when)s. Terms fingerprint (SHA-256): %(hash)s",
                   when=local_time(agreed_at, ZoneInfo(account.cardholder.timezone)),
                   hash=plan.terms_hash)
    response = make_response(agreement.agreement_pdf(lines, footer=footer, locale=locale))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="plan-{plan.id}.pdf"'
    return response


@bp.app_context_processor
def _plan_template_helpers():
    shown: dict = {}  # this render's labels: each translated once, however many rows

    def status_label(status):
        key = getattr(status, "value", status)
        if key not in shown:
            shown[key] = str(STATUS.get(key, key))
        return shown[key]
    return {"status_label": status_label}
