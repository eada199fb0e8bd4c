"""Cardholder payment pages, the sandbox's test-mode pages and the webhook endpoint."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from portal.accounts.queries import owned_account_or_404
from portal.auth.session import cardholder_required
from portal.core.filters import money
from portal.core.forms import parse_money_fields
from portal.core.nav import cardholder_entry
from portal.core.security import extend_csp
from portal.extensions import csrf, db, limiter
from portal.links.services import record_outcome
from portal.balances.services import today_for
from portal.payments import ahead as plan_ahead, plan_link, receipts, services, webhooks
from portal.payments.blueprint import STRIPE_CSP, bp
from portal.payments.cancel import cancel_open_payment
from portal.payments.forms import (CancelPaymentForm, PayForm, RecheckForm, SandboxAuthForm,
                                   SandboxCardForm)
from portal.payments.gateway import BadSignature, ProviderRefused, ProviderUnavailable, get_gateway
from portal.payments.models import Payment, PaymentChoice
from portal.payments.recheck import Outcome, recheck_before_confirm
from portal.payments.sandbox import SandboxGateway, luhn_ok, signed
from portal.payments.states import PaymentStatus

NAV = (
    cardholder_entry("payments.pay_start", _l("Make a payment"), order=20),
)


def owned_payment_or_404(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.account.cardholder_id != current_user.id:
        abort(404)
    return payment


def _choices(options, ahead=None):
    choices = []
    if options.overdue:
        choices.append((PaymentChoice.OVERDUE.value, _("The overdue amount")))
    if options.instalment:
        choices.append((PaymentChoice.INSTALMENT.value,
                        _("Your plan's missed and due payments") if ahead and ahead.missed
                        else _("The next instalment")))
    if ahead is not None:
        choices.append((plan_ahead.PAYOFF, _("Pay off your plan")))
    if options.full:
        choices.append((PaymentChoice.FULL.value, _("The full balance")))
        choices.append((PaymentChoice.OTHER.value, _("Another amount")))
    return choices


@bp.get("/pay")
@cardholder_required
def pay_start():
    accounts = current_user.accounts
    if len(accounts) == 1:
        return redirect(url_for("payments.pay", account_id=accounts[0].id))
    return render_template("payments/choose_account.html", accounts=accounts)


@bp.route("/accounts/<int:account_id>/pay", methods=["GET", "POST"])
@cardholder_required
def pay(account_id):
    account = owned_account_or_404(account_id)
    options = services.payment_options(account)
    ahead = plan_link.plan_ahead(account, today_for(account))
    form = PayForm()
    form.choice.choices = _choices(options, ahead)
    preview = None
    if request.method == "GET":
        form.nonce.data = services.issue_nonce(account)
        form.currency.data = account.currency
        # A reminder links to ?choice=instalment: preselect it when it is on offer.
        offered = [value for value, _label in form.choice.choices]
        wanted = request.args.get("choice")
        form.choice.data = wanted if wanted in offered else (offered[0] if offered else None)
    elif form.validate_on_submit() and (form.choice.data != PaymentChoice.OTHER.value or
                                        parse_money_fields(form, account.currency,
                                                           ("other_amount",))):
        try:
            choice, amount = plan_ahead.resolve(form.choice.data, form.other_amount.minor, ahead,
                                               options)
            if plan_ahead.to_preview(form.choice.data, amount, ahead, options,
                                    form.previewed.data):
                # Paying the plan ahead: show the schedule it leaves, then pay on confirmation.
                form.previewed.data = str(amount)
                preview = ahead.after(amount)
            else:
                payment = services.open_payment(account, choice=choice, other_amount=amount,
                                                currency=form.currency.data,
                                                nonce=form.nonce.data)
                plan_ahead.record_ahead(payment, ahead, form.choice.data == plan_ahead.PAYOFF)
                record_outcome("payment", payment.id, account.id)  # the message that led here
                db.session.commit()  # the row and its key exist before the provider hears of it
                return redirect(url_for("payments.checkout", payment_id=payment.id))
        except services.PaymentRefused as exc:
            # Nothing of the refused payment was written; what the provider said about declined
            # payments stopped on the way (cancelled, or a success now posted) is kept.
            db.session.commit()
            form.form_errors.append(exc.message)
        except ProviderUnavailable:  # a declined payment could not be stopped first
            db.session.rollback()
            form.form_errors.append(_(
                "The payment service is not answering right now. Nothing has been charged. "
                "Please try again in a moment."))
            return render_template("payments/pay.html", account=account, options=options,
                                   form=form, ahead=ahead, preview=None), 503
    return render_template("payments/pay.html", account=account, options=options, form=form,
                           ahead=ahead, preview=preview), (
        422 if form.errors or form.form_errors else 200)


@bp.get("/payments/<int:payment_id>/checkout")
@cardholder_required
def checkout(payment_id):
    payment = owned_payment_or_404(payment_id)
    if payment.status not in (PaymentStatus.CREATED, PaymentStatus.FAILED):
        return redirect(url_for("payments.status", payment_id=payment.id))
    if (refused := _refuse_if_more_than_owed(payment)) is not None:
        return refused
    try:
        intent = services.ensure_intent(payment)
        db.session.commit()
    except ProviderUnavailable:
        return _provider_unavailable(payment)
    except ProviderRefused as exc:
        services.fail_refused(payment, exc)
        db.session.commit()
        return redirect(url_for("payments.status", payment_id=payment.id))
    gateway = get_gateway()
    if isinstance(gateway, SandboxGateway):
        return render_template("payments/sandbox_card.html", payment=payment, form=SandboxCardForm())
    extend_csp(**STRIPE_CSP)
    return render_template("payments/stripe_checkout.html", payment=payment, intent=intent,
                           form=RecheckForm(),
                           publishable_key=gateway.publishable_key, locale=str(get_locale()),
                           return_url=url_for("payments.status", payment_id=payment.id,
                                              _external=True))


def _provider_unavailable(payment: Payment):
    db.session.rollback()
    flash(_("The payment service is not answering right now. Nothing has been charged. "
            "Please try again in a moment."), "error")
    return render_template("payments/unavailable.html", payment=payment), 503


def _refuse_if_more_than_owed(payment: Payment):
    """Before anything is charged: a payment that would now pay more than is owed is cancelled
    (at the provider first) and the cardholder is sent back to choose the new amount and
    confirm it. None when the payment may go ahead."""
    owed = services.more_than_owed(payment)
    if owed is None:
        return None
    try:
        cancel_open_payment(payment)
        db.session.commit()
    except ProviderUnavailable:
        return _provider_unavailable(payment)
    return redirect(_choose_again(payment, owed))


def _choose_again(payment: Payment, owed: int) -> str:
    """Say why a payment for more than is owed was cancelled; where to choose the amount."""
    flash(_("Your balance has changed since you started this payment: %(owed)s is owed now. "
            "Nothing was charged. Please choose the amount again.",
            owed=money(owed, payment.currency)), "info")
    return url_for("payments.pay", account_id=payment.account_id)


@bp.post("/payments/<int:payment_id>/recheck")
@cardholder_required
def recheck(payment_id):
    """Asked by the Stripe page just before it confirms (static/js/payment.js): JSON saying
    whether to confirm, the new amount to show and confirm again, or where to go instead."""
    payment = owned_payment_or_404(payment_id)
    if not RecheckForm().validate_on_submit():
        abort(400)
    try:
        result = recheck_before_confirm(payment)
        db.session.commit()
    except ProviderUnavailable:
        db.session.rollback()
        return {"outcome": "unavailable", "message": _(
            "The payment service is not answering right now. Nothing has been charged. "
            "Please try again in a moment.")}, 503
    if result.outcome == Outcome.UNCHANGED:
        return {"outcome": result.outcome.value, "amount": result.amount}
    if result.outcome == Outcome.CANCELLED:
        return {"outcome": result.outcome.value, "redirect": _choose_again(payment, 0)}
    if result.outcome == Outcome.CLOSED:
        return {"outcome": result.outcome.value,
                "redirect": url_for("payments.status", payment_id=payment.id)}
    shown = money(result.amount, payment.currency)
    return {"outcome": result.outcome.value, "amount": result.amount, "amount_text": shown,
            "message": _("Your balance has changed since this page was opened: %(owed)s is owed "
                         "now, so this payment is now for %(owed)s. Nothing has been charged. "
                         "Please check the amount and press the button again to pay it.",
                         owed=shown),
            "button": _("Pay %(amount)s", amount=shown)}


def _sandbox_or_404() -> SandboxGateway:
    gateway = get_gateway()
    if not isinstance(gateway, SandboxGateway):
        abort(404)
    return gateway


def _deliver(events) -> None:
    """The sandbox "sends" its events: signed, verified and handled like Stripe's."""
    for event in events:
        payload, signature = signed(event)
        webhooks.receive(payload, signature)
        db.session.commit()


@bp.post("/payments/<int:payment_id>/sandbox/card")
@cardholder_required
def sandbox_card(payment_id):
    gateway = _sandbox_or_404()
    payment = owned_payment_or_404(payment_id)
    form = SandboxCardForm()
    number = (form.card_number.data or "").replace(" ", "")
    if form.validate_on_submit() and not luhn_ok(number):
        form.card_number.errors.append(_("This card number is not valid."))
    if form.errors or not payment.provider_ref:
        return render_template("payments/sandbox_card.html", payment=payment, form=form), 422
    if (refused := _refuse_if_more_than_owed(payment)) is not None:
        return refused
    try:
        intent, events = gateway.confirm_with_card(payment.provider_ref, number)
        db.session.commit()
        _deliver(events)
    except DBAPIError:
        # "Pay now" clicked twice: on SQLite the second click cannot write (the database is
        # locked, or the ledger's unique key refuses a second posting). The first click carries
        # the payment; the status page asks the provider and shows what is true.
        db.session.rollback()
        return redirect(url_for("payments.status", payment_id=payment_id))
    if intent.status == "requires_action":
        return redirect(url_for("payments.sandbox_authenticate", payment_id=payment.id))
    return redirect(url_for("payments.status", payment_id=payment.id))


@bp.route("/payments/<int:payment_id>/sandbox/authenticate", methods=["GET", "POST"])
@cardholder_required
def sandbox_authenticate(payment_id):
    gateway = _sandbox_or_404()
    payment = owned_payment_or_404(payment_id)
    form = SandboxAuthForm()
    if form.validate_on_submit() and payment.provider_ref:
        intent, events = gateway.authenticate(payment.provider_ref, bool(form.approve.data))
        db.session.commit()
        _deliver(events)
        return redirect(url_for("payments.status", payment_id=payment.id))
    return render_template("payments/sandbox_authenticate.html", payment=payment, form=form)


@bp.get("/payments/<int:payment_id>")
@cardholder_required
def status(payment_id):
    """The return page: asks the provider when unfinished and shows only what is true."""
    payment = owned_payment_or_404(payment_id)
    try:
        services.refresh(payment)
        db.session.commit()
    except ProviderUnavailable:
        db.session.rollback()
    payment = db.session.get(Payment, payment_id)
    return render_template("payments/status.html", payment=payment,
                           reason=services.failure_reason(payment),
                           sandbox=isinstance(get_gateway(), SandboxGateway),
                           cancel_form=CancelPaymentForm())


@bp.post("/payments/<int:payment_id>/cancel")
@cardholder_required
def cancel(payment_id):
    """Give up a payment that has not taken money (an old tab's, say), so a new one can start."""
    payment = owned_payment_or_404(payment_id)
    if not CancelPaymentForm().validate_on_submit():
        abort(400)
    try:
        cancelled = cancel_open_payment(payment)
        db.session.commit()
    except ProviderUnavailable:
        db.session.rollback()
        flash(_("The payment service is not answering right now, so the payment could not be "
                "cancelled. Please try again in a moment."), "error")
        return redirect(url_for("payments.status", payment_id=payment_id))
    if cancelled:
        flash(_("The payment was cancelled. No money was taken."), "info")
    return redirect(url_for("payments.status", payment_id=payment_id))


@bp.get("/payments/<int:payment_id>/receipt")
@cardholder_required
def receipt(payment_id):
    payment = owned_payment_or_404(payment_id)
    if not payment.receipt_number:
        abort(404)
    return render_template("payments/receipt.html", payment=payment,
                           lines=receipts.receipt_lines(payment, str(get_locale())))


@bp.get("/payments/<int:payment_id>/receipt.pdf")
@cardholder_required
def receipt_pdf(payment_id):
    payment = owned_payment_or_404(payment_id)
    if not payment.receipt_number:
        abort(404)
    data = receipts.receipt_pdf(payment, str(get_locale()), _("Card repayment"))
    return current_app.response_class(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="receipt-{payment.receipt_number}.pdf"',
        "Cache-Control": "no-store"})


@bp.post("/webhooks/payments")
@csrf.exempt
@limiter.exempt
def webhook():
    """Signed provider events. 400 for a bad signature; 5xx when we cannot store the event, so
    the provider retries. No rate limit (a provider's burst of retries is answered, never
    refused) and no session (`enforce_idle_timeout` skips it): the signature is the caller's
    only credential."""
    try:
        outcome = webhooks.receive(request.get_data(), request.headers.get("Stripe-Signature"))
        db.session.commit()
    except BadSignature:
        db.session.rollback()
        return {"error": "bad signature"}, 400
    except (DBAPIError, ProviderUnavailable):
        try:
            db.session.rollback()
        except DBAPIError:
            pass
        return {"error": "unavailable"}, 503
    return {"received": True, "outcome": outcome}

