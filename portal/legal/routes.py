"""The legal workspace: accounts referred to legal, one account's context and its legal steps.

Legal records steps; collections managers may read everything here but record nothing.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Account
from portal.accounts.labels import entry_label
from portal.auth.session import staff_required
from portal.balances.services import today_for
from portal.core.forms import parse_money_fields
from portal.core.inputs import arg_page
from portal.core.nav import staff_entry
from portal.core.today import staff_today
from portal.disputes import labels as dispute_labels
from portal.extensions import db
from portal.legal import services, workspace
from portal.legal.forms import (KIND_LABELS, REFUSAL_MESSAGES, CorrectionForm, LegalActionForm,
                                ProfileFilterForm)
from portal.legal.models import LegalAction, LegalActionKind
from portal.policy.services import shipped_profiles
from portal.staff.models import Role

bp = Blueprint("legal", __name__, url_prefix="/staff/legal")
READERS = (Role.LEGAL, Role.COLLECTIONS_MANAGER)
NAV = (
    staff_entry("legal.index", _l("Accounts with legal"), [Role.COLLECTIONS_MANAGER], order=58),
)


def _account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or not services.is_with_legal(account):
        abort(404)  # not referred to legal: ids reveal nothing
    return account


@bp.get("/")
@staff_required(*READERS)
def index():
    form = ProfileFilterForm(formdata=request.args)
    form.profile.choices = [("", _("Every profile"))] + [(p, p) for p in shipped_profiles()]
    profile = request.args.get("profile") or None
    if profile and not form.validate():
        return render_template("legal/workspace.html", form=form, result=None,
                               page_args={}, kind_labels=KIND_LABELS), 422
    result = workspace.referred_page(staff_today(), profile,
                                     arg_page())
    return render_template("legal/workspace.html", form=form, result=result,
                           page_args={"profile": profile} if profile else {},
                           kind_labels=KIND_LABELS)


def _render_account(account, form=None, status=200):
    today = today_for(account)
    can_record = current_user.has_role(Role.LEGAL)
    return render_template(
        "legal/account.html", account=account, ctx=workspace.account_context(account, today),
        actions=services.actions_of(account), form=form or LegalActionForm(),
        can_record=can_record, kind_labels=KIND_LABELS, labels=dispute_labels,
        entry_kind=entry_label, today=today), status


@bp.get("/accounts/<int:account_id>")
@staff_required(*READERS)
def account(account_id):
    return _render_account(_account_or_404(account_id))


@bp.post("/accounts/<int:account_id>/actions")
@staff_required(Role.LEGAL)
def record(account_id):
    account = _account_or_404(account_id)
    form = LegalActionForm()
    valid = form.validate_on_submit()
    if not (parse_money_fields(form, account.currency, ("amount",)) and valid):
        return _render_account(account, form, 422)
    try:
        step = services.StepInput(
            kind=form.kind.data, occurred_on=form.occurred_on.data,
            hearing_on=form.hearing_on.data, court_reference=form.court_reference.data,
            amount=form.amount.minor, note=form.note.data)
        services.record_action(account, current_user, step, today_for(account))
    except services.LegalActionRefused as refused:
        db.session.rollback()
        getattr(form, refused.field or "kind").errors.append(
            str(REFUSAL_MESSAGES.get(refused.code, refused.code)))
        return _render_account(account, form, 422)
    db.session.commit()
    flash(_("The step was recorded. The cardholder's timeline now shows it."), "success")
    return redirect(url_for("legal.account", account_id=account.id))


def _correctable_or_404(account, action_id) -> LegalAction:
    action = db.session.get(LegalAction, action_id)
    if (action is None or action.account_id != account.id
            or action.kind == LegalActionKind.CORRECTION):
        abort(404)
    return action


@bp.route("/accounts/<int:account_id>/actions/<int:action_id>/correct", methods=["GET", "POST"])
@staff_required(Role.LEGAL)
def correct(account_id, action_id):
    account = _account_or_404(account_id)
    action = _correctable_or_404(account, action_id)
    form = CorrectionForm()
    corrected_by = db.session.scalar(select(LegalAction).where(
        LegalAction.corrects_id == action.id))
    status = 200
    if form.validate_on_submit():
        try:
            services.correct_action(account, current_user, action.id, form.reason.data,
                                    today_for(account))
        except services.LegalActionRefused as refused:
            db.session.rollback()
            form.reason.errors.append(str(REFUSAL_MESSAGES.get(refused.code, refused.code)))
        else:
            db.session.commit()
            flash(_("The entry is marked as recorded in error and no longer shows on the "
                    "cardholder's timeline. Record the right step if there is one."), "success")
            return redirect(url_for("legal.account", account_id=account.id))
    if request.method == "POST":
        status = 422
    return render_template("legal/correct.html", account=account, action=action, form=form,
                           corrected_by=corrected_by, kind_labels=KIND_LABELS), status
