"""Hardship: the income-and-expenditure form, proof uploads and the plan a budget affords."""
from __future__ import annotations

import hashlib

from flask import abort, render_template
from flask_login import current_user

from portal.accounts.models import Account
from portal.accounts.queries import owned_account_or_404
from portal.audit.services import record
from portal.auth.session import cardholder_required
from portal.balances.services import balance_of, today_for
from portal.core.forms import parse_money_fields
from portal.core.storage import send_document
from portal.disputes.uploads import UploadRefused, check_files, store
from portal.extensions import db
from portal.plans import services
from portal.plans.blueprint import bp
from portal.plans.choices import EXPENSE_FIELDS, suggest_for_budget
from portal.plans.forms import HardshipForm
from portal.plans.models import HardshipStatement, ProofDocument
from portal.plans.proposal_routes import cardholder_spec, spec_args

PROOF_ROLES = ("collector", "collections_manager")


@bp.route("/accounts/<int:account_id>/plans/hardship", methods=["GET", "POST"])
@cardholder_required
def hardship(account_id):
    account = owned_account_or_404(account_id)
    form = HardshipForm()
    fields = ("income",) + EXPENSE_FIELDS
    if not (form.validate_on_submit() and parse_money_fields(form, account.currency, fields)):
        status = 422 if form.is_submitted() else 200
        return render_template("plans/hardship.html", account=account, form=form), status
    try:
        files = check_files(form.proof.data)
    except UploadRefused as exc:
        form.proof.errors = [str(exc)]
        return render_template("plans/hardship.html", account=account, form=form), 422
    statement = HardshipStatement(account_id=account.id, currency=account.currency,
                                  **{name: getattr(form, name).minor or 0 for name in fields})
    db.session.add(statement)
    db.session.flush()
    for name, content, content_type in files:
        db.session.add(ProofDocument(
            statement_id=statement.id, original_name=name,
            stored_name=store(content, content_type), content_type=content_type,
            size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest()))
    db.session.flush()
    record("plan.hardship_statement", subject=statement,
           after={"disposable": statement.disposable, "documents": len(files)})
    db.session.commit()
    today = today_for(account)
    balance = balance_of(account, today)
    policy = services.plan_policy(account, today, balance=balance)
    suggestion = suggest_for_budget(statement.disposable,
                                    services.owed_for(account, today, balance), policy, today)
    args = None
    if suggestion is not None:
        spec = cardholder_spec(policy, "instalment", suggestion.spec.count,
                               suggestion.spec.frequency, suggestion.spec.first_date,
                               suggestion.spec.down_payment)
        args = spec_args(spec, "hardship", statement.id)
    return render_template("plans/hardship_result.html", account=account, statement=statement,
                           suggestion=suggestion, args=args)


@bp.get("/plans/proof/<int:document_id>")
def proof(document_id):
    """A proof document: to its owner, and to staff whose work needs it."""
    if not current_user.is_authenticated:
        abort(404)
    document = db.session.get(ProofDocument, document_id)
    if document is None:
        abort(404)
    owner_id = document.statement.account_id
    if current_user.is_staff:
        if not current_user.has_role(*PROOF_ROLES):
            abort(403)
        record("plan.proof_viewed", subject=document)
        db.session.commit()
    else:
        account = db.session.get(Account, owner_id)
        if account is None or account.cardholder_id != current_user.id:
            abort(404)
    return send_document(document.stored_name, content_type=document.content_type,
                         download_name=document.original_name)
