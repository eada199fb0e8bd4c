"""Cardholder pages: raise a dispute, follow it, reply, add documents, withdraw."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.queries import owned_account_or_404
from portal.accounts.labels import entry_label
from portal.auth.session import cardholder_required
from portal.core.filters import long_date, money
from portal.core.forms import parse_money_fields
from portal.core.nav import cardholder_entry
from portal.core.storage import send_document
from portal.disputes import access, labels, services, sla, uploads
from portal.disputes.forms import CustomerReplyForm, RaiseDisputeForm, WithdrawForm
from portal.disputes.models import Dispute, DisputeAttachment
from portal.disputes.rules import ACTIVE, IllegalTransition, TERMINAL
from portal.disputes.views import answer_due, template_helpers
from portal.extensions import db

bp = Blueprint("disputes", __name__)
bp.context_processor(template_helpers)
NAV = (
    cardholder_entry("disputes.index", _l("My disputes"), order=60),
)


@bp.get("/disputes")
@cardholder_required
def index():
    """The cardholder's disputes in a fixed number of statements, however many wait for
    them: accounts (for the calendar) joined, open pauses in one query."""
    disputes = db.session.scalars(select(Dispute).where(Dispute.cardholder_id == current_user.id)
                                  .options(joinedload(Dispute.account))
                                  .order_by(Dispute.id.desc())).all()
    pauses = sla.open_pauses(disputes)
    answers = {d.id: answer_due(d, pauses) for d in disputes if d.status in ACTIVE}
    return render_template("disputes/index.html", disputes=disputes, answers=answers,
                           accounts=current_user.accounts, labels=labels)


def _entry_choices(account):
    return [(e.id, f"{long_date(e.effective_date)} · {entry_label(e.kind)} · "
                   f"{money(e.amount, e.currency)}")
            for e in services.contestable_entries(account)]


@bp.route("/accounts/<int:account_id>/disputes/new", methods=["GET", "POST"])
@cardholder_required
def new(account_id):
    account = owned_account_or_404(account_id)
    form = RaiseDisputeForm()
    form.entries.choices = _entry_choices(account)
    valid = form.validate_on_submit()
    if parse_money_fields(form, account.currency, ("amount",)) and valid:
        try:
            dispute = services.raise_dispute(
                current_user, account, category=form.category.data, amount=form.amount.minor,
                entry_ids=form.entries.data or [], description=form.description.data,
                files=form.attachments.data)
        except uploads.UploadRefused as exc:
            db.session.rollback()
            form.attachments.errors.append(str(exc))
        except services.DisputeRefused as exc:
            db.session.rollback()
            getattr(form, exc.field or "category").errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your dispute has been sent. We will answer by the date shown below."),
                  "success")
            return redirect(url_for("disputes.show", dispute_id=dispute.id))
    return render_template("disputes/new.html", form=form, account=account), (
        400 if form.errors else 200)


@bp.get("/disputes/<int:dispute_id>")
@cardholder_required
def show(dispute_id):
    dispute = access.owned_dispute_or_404(current_user, dispute_id)
    messages = [m for m in dispute.messages if m.customer_visible]
    return render_template("disputes/show.html", dispute=dispute, messages=messages,
                           reply_form=CustomerReplyForm(), withdraw_form=WithdrawForm(prefix="wd"),
                           closed=dispute.status in TERMINAL, labels=labels)


@bp.post("/disputes/<int:dispute_id>/reply")
@cardholder_required
def reply(dispute_id):
    dispute = access.owned_dispute_or_404(current_user, dispute_id)
    form = CustomerReplyForm()
    if form.validate_on_submit():
        try:
            services.customer_reply(dispute, current_user, (form.body.data or "").strip(),
                                    form.attachments.data)
        except uploads.UploadRefused as exc:
            db.session.rollback()
            form.attachments.errors.append(str(exc))
        except services.DisputeRefused as exc:
            db.session.rollback()
            form.body.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your message has been added."), "success")
            return redirect(url_for("disputes.show", dispute_id=dispute.id))
    messages = [m for m in dispute.messages if m.customer_visible]
    return render_template("disputes/show.html", dispute=dispute, messages=messages,
                           reply_form=form, withdraw_form=WithdrawForm(prefix="wd"),
                           closed=dispute.status in TERMINAL, labels=labels), 400


@bp.post("/disputes/<int:dispute_id>/withdraw")
@cardholder_required
def withdraw(dispute_id):
    dispute = access.owned_dispute_or_404(current_user, dispute_id)
    form = WithdrawForm(prefix="wd")
    if form.validate_on_submit():
        try:
            services.withdraw(dispute, current_user)
        except IllegalTransition:
            db.session.rollback()
            flash(_("This dispute is already closed."), "error")
        else:
            db.session.commit()
            flash(_("Your dispute has been withdrawn."), "success")
    return redirect(url_for("disputes.show", dispute_id=dispute.id))


@bp.get("/disputes/<int:dispute_id>/files/<int:attachment_id>")
@cardholder_required
def attachment(dispute_id, attachment_id):
    dispute = access.owned_dispute_or_404(current_user, dispute_id)
    return send_attachment(dispute, attachment_id)


def send_attachment(dispute, attachment_id):
    """The stored file as a download with its checked content type; 404 if not this dispute's."""
    from flask import abort

    item = db.session.get(DisputeAttachment, attachment_id)
    if item is None or item.dispute_id != dispute.id:
        abort(404)
    return send_document(item.stored_name, content_type=item.content_type,
                         download_name=item.original_name)
