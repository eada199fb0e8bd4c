"""The staff list of payments: filters, one query per page, read-only (refunds stay on the
detail page, for collections managers only)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from portal.accounts.models import Account
from portal.core.inputs import PortalForm
from portal.core.pagination import Page, seek_page
from portal.extensions import db
from portal.payments.models import Payment
from portal.payments.states import PaymentStatus
from portal.staff.account_context import latest

STATUS_LABELS = {
    PaymentStatus.CREATED: _l("Started"),
    PaymentStatus.REQUIRES_ACTION: _l("Waiting for the cardholder's bank check"),
    PaymentStatus.PROCESSING: _l("Processing"),
    PaymentStatus.SUCCEEDED: _l("Posted"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.CANCELED: _l("Cancelled"),
    PaymentStatus.REFUNDED: _l("Refunded"),
}


class PaymentFilterForm(PortalForm):
    """GET filters; nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])
    date_from = DateField(_l("Started on or after"), validators=[Optional()])
    date_to = DateField(_l("Started on or before"), validators=[Optional()])
    account = StringField(_l("Account number"), validators=[
        Optional(), Length(max=32),
        Regexp(r"^[0-9 ]+$", message=_l("Enter the account number in digits."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("Any status"))] + [
            (s.value, label) for s, label in STATUS_LABELS.items()]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))


@dataclass(frozen=True)
class PaymentFilter:
    status: PaymentStatus | None = None
    date_from: date | None = None  # days of `created_at` in UTC, inclusive
    date_to: date | None = None
    account_number: str | None = None

    @classmethod
    def from_form(cls, form: PaymentFilterForm) -> PaymentFilter:
        number = (form.account.data or "").replace(" ", "") or None
        return cls(PaymentStatus(form.status.data) if form.status.data else None,
                   form.date_from.data, form.date_to.data, number)


# What a row of the list shows (read as a row of columns: no entity is built per row).
LISTED = (Payment.id, Payment.created_at, Payment.amount, Payment.currency, Payment.status,
          Payment.receipt_number, Account.account_number)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def payments_page(filters: PaymentFilter, page: int = 1, per_page: int | None = None, *,
                  after: str | None = None, before: str | None = None) -> Page:
    """One page (pagination.PER_PAGE) of payments (`Page.rows`: rows of the columns the list
    shows, `LISTED`, not entities), newest first, in a single query whatever the page size
    and however deep (by key after the last row shown, see `pagination.seek_page`); the
    indexes on (created_at, id) and (status, created_at, id) serve the order."""
    params: dict = {}
    if filters.status is not None:
        params["status"] = filters.status
    if filters.date_from is not None:
        params["date_from"] = _start_of(filters.date_from)
    if filters.date_to is not None:
        params["date_to"] = _start_of(filters.date_to + timedelta(days=1))
    if filters.account_number:
        params["account_number"] = filters.account_number
    return seek_page(_payments_query(frozenset(params)), _KEYS, page, after=after,
                     before=before, descending=True, per_page=per_page, scalars=False,
                     params=params)


_KEYS = (Payment.created_at, Payment.id)


@functools.cache  # built once per process, its page statements too (`seek_page`'s `params`)
def _payments_query(filtered: frozenset):
    """The list's rows, narrowed by the filters named in `filtered`, each a bind parameter of
    its name (`payments_page`)."""
    query = select(*LISTED).join(Account, Account.id == Payment.account_id)
    if "status" in filtered:
        query = query.where(Payment.status == bindparam("status"))
    if "date_from" in filtered:
        query = query.where(Payment.created_at >= bindparam("date_from"))
    if "date_to" in filtered:
        query = query.where(Payment.created_at < bindparam("date_to"))
    if "account_number" in filtered:
        query = query.where(Account.account_number == bindparam("account_number"))
    return query


def staff_context_section(account: Account) -> dict:
    """Payments' part of the staff account context (portal.staff.account_context), with what
    each posted payment applied to plan instalments: {instalment id: [(payment id, amount
    still standing)]} (the staff plan page shows which payment paid an instalment early)."""
    return {"payments": latest(Payment, account.id, Payment.id.desc()),
            "payment_status_labels": STATUS_LABELS,
            "instalment_payments": instalment_payments(account)}


def instalment_payments(account: Account) -> dict[int, list[tuple[int, int]]]:
    """Per instalment, the payments that paid it and how much of each still stands (less what
    refunds and chargebacks reopened), from what each payment stored when it was posted."""
    found: dict[int, list[tuple[int, int]]] = {}
    rows = db.session.scalars(select(Payment).where(
        Payment.account_id == account.id, Payment.plan_application.is_not(None))
        .order_by(Payment.id))
    for payment in rows:
        reopened: dict[int, int] = {}
        for reversal in payment.reversals:
            if reversal.reinstated_at is None:
                for inst_id, part in reversal.plan_reversal or []:
                    reopened[int(inst_id)] = reopened.get(int(inst_id), 0) + int(part)
        for inst_id, part in payment.plan_application or []:
            standing = int(part) - reopened.get(int(inst_id), 0)
            if standing > 0:
                found.setdefault(int(inst_id), []).append((payment.id, standing))
    return found
