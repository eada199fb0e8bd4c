"""Staff pages for breathing spaces and vulnerability flags (`portal.care.access` decides who).

Every view of the page is audited: it shows reasons and notes, sensitive personal data.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Account
from portal.auth.session import staff_required
from portal.balances.services import today_for
from portal.care import services
from portal.care.access import CARE_ROLES, may_handle_care
from portal.care.forms import CareForm, EndCareForm
from portal.care.labels import FREEZE_LABELS, KIND_LABELS, REASON_LABELS, REFUSALS
from portal.care.models import CareRecord
from portal.care.rules import FREEZABLE
from portal.extensions import db
from portal.policy.services import policy_for

bp = Blueprint("care", __name__, url_prefix="/staff/care")


def _account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or not may_handle_care(current_user, account):
        abort(404)  # ids reveal nothing
    return account


def _render(account, form=None, status=200):
    today = today_for(account)
    rules = services.rules_for(policy_for(account.policy_profile, today))
    records = services.records_for(account)
    db.session.commit()  # the audited read stays recorded whatever happens next
    return render_template(
        "care/account.html", account=account, records=records, today=today,
        form=form or CareForm(formdata=None), end_form=EndCareForm(formdata=None),
        rules=rules, freezable=FREEZABLE, kind_labels=KIND_LABELS,
        reason_labels=REASON_LABELS, freeze_labels=FREEZE_LABELS), status


@bp.get("/accounts/<int:account_id>")
@staff_required(*CARE_ROLES)
def account(account_id):
    return _render(_account_or_404(account_id))


@bp.post("/accounts/<int:account_id>")
@staff_required(*CARE_ROLES)
def add(account_id):
    account = _account_or_404(account_id)
    form = CareForm()
    if not form.validate_on_submit():
        return _render(account, form, 422)
    kind, reason = form.kind_and_reason()
    try:
        services.add_record(account, current_user, kind=kind, reason=reason,
                            starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                            note=form.note.data, today=today_for(account))
    except services.CareError as refused:
        db.session.rollback()
        target = {"starts_in_future": form.starts_on, "starts_too_early": form.starts_on,
                  "ends_before_start": form.ends_on, "ends_too_late": form.ends_on,
                  "longer_than_policy": form.ends_on}.get(refused.code, form.kind)
        target.errors = list(target.errors) + [str(REFUSALS[refused.code])]
        return _render(account, form, 422)
    db.session.commit()
    flash(_("Recorded. The cardholder's pages show what is frozen."), "success")
    return redirect(url_for("care.account", account_id=account.id))


@bp.post("/records/<int:record_id>/end")
@staff_required(*CARE_ROLES)
def end(record_id):
    row = db.session.get(CareRecord, record_id)
    holder_accounts = db.session.scalars(select(Account).where(
        Account.cardholder_id == row.cardholder_id).order_by(Account.id)) if row else []
    account = next((a for a in holder_accounts if may_handle_care(current_user, a)), None)
    if account is None:
        abort(404)
    form = EndCareForm()
    if not form.validate_on_submit():
        flash(str(form.reason.errors[0] if form.reason.errors else _("Say why it ends early.")),
              "error")
        return redirect(url_for("care.account", account_id=account.id))
    try:
        services.end_record(row, current_user, reason=form.reason.data,
                            today=today_for(account))
    except services.CareError as refused:
        db.session.rollback()
        flash(str(REFUSALS[refused.code]), "error")
        return redirect(url_for("care.account", account_id=account.id))
    db.session.commit()
    flash(_("Ended from today."), "success")
    return redirect(url_for("care.account", account_id=account.id))


@bp.app_context_processor
def _care_template_helpers():
    """For the staff account context, shown on other features' pages."""
    return {"may_handle_care": lambda account: may_handle_care(current_user, account),
            "care_freeze_label": lambda name: str(FREEZE_LABELS[name])}
