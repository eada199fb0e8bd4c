"""Cardholder pages for autopay: save a card with consent, turn it on or off."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.accounts.queries import owned_account_or_404
from portal.auth.session import cardholder_required
from portal.core.security import extend_csp
from portal.extensions import db
from portal.payments import autopay, plan_link, services
from portal.payments.blueprint import STRIPE_CSP, bp
from portal.payments.forms import AutopaySetupForm, StripeSetupConsentForm, ToggleForm
from portal.payments.gateway import ProviderRefused, ProviderUnavailable, get_gateway
from portal.payments.sandbox import SandboxGateway, luhn_ok


def _page(account, form, status=200, **extra):
    return render_template("payments/autopay.html", account=account, form=form,
                           mandate=autopay.mandate_for(account), consent=autopay.CONSENT_TEXT,
                           plan=plan_link.active_plan(account), toggle=ToggleForm(),
                           sandbox=isinstance(get_gateway(), SandboxGateway), **extra), status


@bp.route("/accounts/<int:account_id>/autopay", methods=["GET", "POST"])
@cardholder_required
def autopay_page(account_id):
    account = owned_account_or_404(account_id)
    gateway = get_gateway()
    sandbox = isinstance(gateway, SandboxGateway)
    form = AutopaySetupForm() if sandbox else StripeSetupConsentForm()
    if request.method == "GET":
        if sandbox:
            form.nonce.data = services.issue_nonce(account)
        return _page(account, form)
    if plan_link.active_plan(account) is None:
        form.form_errors.append(_("Automatic payments need an active repayment plan."))
        return _page(account, form, 422)
    if not form.validate_on_submit():
        return _page(account, form, 422)
    try:
        if sandbox:
            number = form.card_number.data.replace(" ", "")
            if not luhn_ok(number):
                form.card_number.errors.append(_("This card number is not valid."))
                return _page(account, form, 422)
            nonce_key = services._key_from_nonce(account, form.nonce.data)
            intent = autopay.start_setup(account, nonce_key)
            intent = gateway.confirm_setup_with_card(intent.ref, number)
            mandate = autopay.complete_setup(account, intent.ref, str(autopay.CONSENT_TEXT))
            db.session.commit()
            if mandate is None:
                flash(_("The card could not be saved. No money was taken. Please try another card."),
                      "error")
            else:
                flash(_("Automatic payments are on."), "success")
            return redirect(url_for("payments.autopay_page", account_id=account.id))
        intent = autopay.start_setup(account, services.issue_nonce(account)[-24:])
        db.session.commit()
    except services.PaymentRefused as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _page(account, form, 422)
    except (ProviderUnavailable, ProviderRefused):
        db.session.rollback()
        form.form_errors.append(_("The payment service is not answering right now. Nothing has "
                                  "been charged. Please try again in a moment."))
        return _page(account, form, 503)
    extend_csp(**STRIPE_CSP)
    return render_template("payments/stripe_setup.html", account=account, intent=intent,
                           publishable_key=gateway.publishable_key,
                           return_url=url_for("payments.autopay_return", account_id=account.id,
                                              _external=True))


@bp.get("/accounts/<int:account_id>/autopay/return")
@cardholder_required
def autopay_return(account_id):
    account = owned_account_or_404(account_id)
    setup_ref = request.args.get("setup_intent", "")
    mandate = autopay.mandate_for(account)
    try:
        if mandate is None or not setup_ref.startswith("seti_"):
            raise ProviderRefused("resource_missing", None)
        done = autopay.complete_setup(account, setup_ref, str(autopay.CONSENT_TEXT))
        db.session.commit()
    except (ProviderRefused, ProviderUnavailable):
        db.session.rollback()
        done = None
    if done is None:
        flash(_("The card could not be saved. No money was taken. Please try another card."), "error")
    else:
        flash(_("Automatic payments are on."), "success")
    return redirect(url_for("payments.autopay_page", account_id=account.id))


@bp.post("/accounts/<int:account_id>/autopay/<any(on, off):state>")
@cardholder_required
def autopay_toggle(account_id, state):
    account = owned_account_or_404(account_id)
    if ToggleForm().validate_on_submit():
        autopay.set_active(account, state == "on")
        db.session.commit()
        flash(_("Automatic payments are on.") if state == "on"
              else _("Automatic payments are off."), "success")
    return redirect(url_for("payments.autopay_page", account_id=account.id))
