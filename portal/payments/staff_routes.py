"""Staff list and view of payments; refunds (collections managers only)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from portal.auth.session import staff_required
from portal.core.database import read_only
from portal.core.filters import formatter
from portal.core.fragments import kept_rows
from portal.core.forms import parse_money_fields
from portal.core.inputs import arg_cursors, arg_page
from portal.core.nav import staff_entry
from portal.core.urls import id_link
from portal.extensions import db
from portal.i18n import PageLabels
from portal.payments import refunds
from portal.payments.blueprint import bp
from portal.payments.forms import RefundForm
from portal.payments.gateway import ProviderRefused, ProviderUnavailable
from portal.payments.models import Payment
from portal.payments.staff_list import (
    PaymentFilter, PaymentFilterForm, STATUS_LABELS, payments_page,
)
from portal.staff.models import Role

VIEWERS = (Role.COLLECTOR, Role.COLLECTIONS_MANAGER, Role.CUSTOMER_SERVICE)
LIST_VIEWERS = (Role.COLLECTOR, Role.COLLECTIONS_MANAGER)
FILTER_ARGS = ("status", "date_from", "date_to", "account")
NAV = (
    staff_entry("payments.staff_payments", _l("Payments"), LIST_VIEWERS, order=55),
)


def _payment_or_404(payment_id):
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        abort(404)
    return payment


@bp.get("/staff/payments")
@read_only
@staff_required(*LIST_VIEWERS)
def staff_payments():
    form = PaymentFilterForm(formdata=request.args)
    submitted = any(request.args.get(k) for k in FILTER_ARGS)
    if submitted and not form.validate():
        return render_template("payments/staff_payments.html", form=form, result=None,
                               rows=[], page_args={}), 422
    filters = PaymentFilter.from_form(form) if submitted else PaymentFilter()
    result = payments_page(filters, arg_page(), **arg_cursors())
    page_args = {k: request.args[k] for k in FILTER_ARGS if request.args.get(k)}
    return render_template("payments/staff_payments.html", form=form, result=result,
                           rows=_rows(result.rows), page_args=page_args)


def _rows(payments) -> list[Markup]:
    """Each row's HTML, kept per process under the columns it shows
    (`fragments.kept_rows`)."""
    return kept_rows("payments/_staff_payment_row.html", payments, tuple, _cells)


def _cells(payments) -> list[dict]:
    """Each row's text, worked out here with the request's formatter, the link built once and
    the status labels translated once a page, so the row's macro only places text."""
    fmt, link = formatter(), id_link("payments.staff_payment", "payment_id")
    statuses = PageLabels(STATUS_LABELS)
    rows = []
    for p in payments:
        day = p.created_at.date()
        rows.append({"id": p.id, "link": link(p.id), "iso": day.isoformat(), "day": fmt.day(day),
                     "account": p.account_number, "amount": fmt.money(p.amount, p.currency),
                     "status": statuses[p.status], "receipt": p.receipt_number or ""})
    return rows


@bp.get("/staff/payments/<int:payment_id>")
@staff_required(*VIEWERS)
def staff_payment(payment_id):
    payment = _payment_or_404(payment_id)
    return _render_payment(payment, RefundForm(request_key=refunds.request_key(payment)))


def _render_payment(payment, form, status=200):
    return render_template("payments/staff_payment.html", payment=payment, form=form,
                           status_labels=STATUS_LABELS,
                           can_refund=current_user.has_role(Role.COLLECTIONS_MANAGER)), status


@bp.post("/staff/payments/<int:payment_id>/refund")
@staff_required(Role.COLLECTIONS_MANAGER)
def staff_refund(payment_id):
    payment = _payment_or_404(payment_id)
    form = RefundForm()
    valid = form.validate_on_submit()
    if not parse_money_fields(form, payment.currency, ("amount",)):
        # What was typed stays, with the message on the field; the same key is resent.
        flash(_("Please check the form."), "error")
        return _render_payment(payment, form, 422)
    if not valid:
        flash(_("Please give an amount and a reason."), "error")
        return redirect(url_for("payments.staff_payment", payment_id=payment.id))
    try:
        refunds.refund(payment, form.amount.minor, form.reason.data, current_user,
                       form.request_key.data)
        db.session.commit()
        flash(_("The refund was made and posted."), "success")
    except refunds.RefundRefused as exc:
        db.session.rollback()
        flash(exc.message, "error")
    except ProviderUnavailable:
        db.session.rollback()
        flash(_("The payment service did not answer in time, so we do not know yet whether the "
                "refund was made. Please check this payment again in a few minutes. If the "
                "refund is not shown by then, send the same refund again: it will not be made "
                "twice."), "error")
    except ProviderRefused as exc:
        db.session.rollback()
        flash(_("The payment service refused the refund: %(reason)s", reason=exc.message or exc.code),
              "error")
    return redirect(url_for("payments.staff_payment", payment_id=payment.id))
