"""Staff pages: the review queue, one proposal with its context, and agreed plans."""
from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import and_, bindparam, case, func, literal_column, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.labels import entry_label
from portal.accounts.models import Account, Cardholder
from portal.auth.session import staff_required
from portal.balances.services import today_for
from portal.bulk import ids_in, is_postgres
from portal.core.database import read_only
from portal.core.filters import formatter
from portal.core.forms import parse_money_fields
from portal.core.fragments import kept_rows
from portal.core.inputs import arg_cursors, arg_page
from portal.core.pagination import NullsLast, seek_page, written
from portal.core.nav import staff_entry
from portal.core.urls import id_link
from portal.disputes import labels as dispute_labels
from portal.extensions import db
from portal.i18n import PageLabels
from portal.plans import decisions, lifecycle, servicing, services
from portal.plans.blueprint import staff_bp
from portal.plans.forms import EXPENSES, ConfirmForm, CounterForm, RejectForm, StatusFilterForm
from portal.plans.messages import ERRORS, STATUS, reason_text
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus
from portal.plans.offers import PlanSpec
from portal.staff.account_context import account_context
from portal.staff.labels import ROLE_NAMES

ROLES = ("collector", "collections_manager")
NAV = (
    staff_entry("plan_review.queue", _l("Plan proposals"), ROLES, order=20),
    staff_entry("plan_review.agreed", _l("Agreed plans"), ROLES, order=21),
)


# What a row of the proposals list shows, and its sort keys.
_PROPOSAL_LISTED = (Plan.id, Plan.accepted_at, Plan.total, Plan.currency, Plan.instalment_count,
                    Plan.required_role, Account.account_number)


_PROPOSAL_KEYS = (NullsLast(Plan.accepted_at), Plan.id)


@functools.cache  # built once per process, its page statements too (`seek_page`'s `params`)
def _proposals_query():
    # The status written into the SQL, not sent as a parameter: PostgreSQL then keeps one
    # plan for the prepared statement instead of planning it on every request (issue 15).
    return (select(*_PROPOSAL_LISTED).join(Plan.account)
            .where(Plan.status == written(PlanStatus.IN_REVIEW, Plan.status)))


@staff_bp.get("/plans/review")
@read_only
@staff_required(*ROLES)
def queue():
    """Proposals in review, oldest accepted first; deep pages by key (`pagination.seek_page`).
    The rows are the columns the list shows (no Plan entities with their terms), and the
    role names are translated once a page."""
    found = seek_page(_proposals_query(), _PROPOSAL_KEYS, arg_page(), scalars=False,
                      params={}, **arg_cursors())
    return render_template("plans/staff_queue.html", plans=_proposal_rows(found.rows),
                           result=found)


def _proposal_rows(plans) -> list[Markup]:
    """Each row's HTML, kept per process under the columns it shows
    (`fragments.kept_rows`)."""
    return kept_rows("plans/_proposal_row.html", plans, tuple, _proposal_cells)


def _proposal_cells(plans) -> list[dict]:
    """Each row's text, worked out here with the request's formatter, the link built once and
    the role names translated once a page, so the row's macro only places text."""
    fmt, link, roles = formatter(), id_link("plan_review.detail", "plan_id"), PageLabels(ROLE_NAMES)
    return [{"id": p.id, "link": link(p.id), "account": p.account_number,
             "total": fmt.money(p.total, p.currency), "count": p.instalment_count,
             "role": roles.get(p.required_role, p.required_role or "")} for p in plans]


def _plan_or_404(plan_id) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _review_reasons(plan):
    return [reason_text(r, plan.currency) for r in lifecycle.stored_reasons(plan)]


@staff_bp.get("/plans/<int:plan_id>")
@staff_required(*ROLES)
def detail(plan_id, counter_form=None, reject_form=None, status=200):
    plan = _plan_or_404(plan_id)
    account = plan.account
    counter_form = counter_form or CounterForm(
        formdata=None, kind=plan.kind, count=plan.instalment_count, frequency=plan.frequency,
        first_date=plan.first_date, discount_percent=plan.discount_percent,
        fees_waived=plan.fees_waived > 0)
    today = today_for(account)
    owed_now = (services.owed_for(account, today).total
                if plan.status == PlanStatus.IN_REVIEW else None)
    return render_template(
        "plans/staff_detail.html", plan=plan, terms=lifecycle.terms_of(plan), account=account,
        owed_now=owed_now,
        ctx=account_context(account, today), labels=dispute_labels,
        entry_kind=entry_label, reasons=_review_reasons(plan), approve_form=ConfirmForm(),
        counter_form=counter_form, reject_form=reject_form or RejectForm(formdata=None),
        may_decide=lifecycle.may_decide_plan(current_user, plan),
        changes=servicing.changes_listed(plan, str(get_locale())),
        expense_labels={k: str(v) for k, v in EXPENSES}), status


def _fail(plan, exc):
    db.session.rollback()
    if exc.code == "refused" and exc.decision:
        return " ".join(reason_text(r, plan.currency) for r in exc.decision.reasons)
    return str(ERRORS.get(exc.code, exc.code))


@staff_bp.post("/plans/<int:plan_id>/approve")
@staff_required(*ROLES)
def approve(plan_id):
    plan = _plan_or_404(plan_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        active = decisions.approve(plan, current_user, today_for(plan.account))
        db.session.commit()
    except lifecycle.PlanError as exc:
        flash(_fail(plan, exc), "error")
        if exc.code == "beyond_authority":
            return detail(plan_id, status=403)
        return redirect(url_for(".detail", plan_id=plan_id))
    except IntegrityError:
        db.session.rollback()
        flash(str(ERRORS["already_active"]), "error")
        return redirect(url_for(".detail", plan_id=plan_id))
    if not active:
        flash(_("The cardholder's balance changed since they proposed this plan, so its terms "
                "were worked out again from today's balance. The cardholder is asked to agree "
                "to the new terms; until then the plan is not active."), "success")
        return redirect(url_for(".queue"))
    flash(_("The plan is approved and active."), "success")
    return redirect(url_for(".queue"))


@staff_bp.post("/plans/<int:plan_id>/counter")
@staff_required(*ROLES)
def counter(plan_id):
    plan = _plan_or_404(plan_id)
    form = CounterForm()
    try:
        discount = Decimal(form.discount_percent.data or "0")
        if not discount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        form.discount_percent.errors = [_("Enter a percentage such as 10 or 12.5.")]
        discount = None
    if not (form.validate_on_submit() and parse_money_fields(form, plan.currency,
                                                            ("down_payment",))) or discount is None:
        return detail(plan_id, counter_form=form, status=422)
    spec = PlanSpec(form.kind.data, form.count.data, form.frequency.data, form.first_date.data,
                    form.down_payment.minor or 0, form.fees_waived.data, discount,
                    plan.interest_mode,
                    Decimal(plan.interest_rate_percent) if plan.interest_rate_percent else None)
    try:
        decisions.counter(plan, current_user, spec, today_for(plan.account), form.reason.data)
        db.session.commit()
    except lifecycle.PlanError as exc:
        form.form_errors.append(_fail(plan, exc))
        return detail(plan_id, counter_form=form,
                      status=403 if exc.code == "beyond_authority" else 422)
    flash(_("The counter-offer is sent to the cardholder."), "success")
    return redirect(url_for(".queue"))


@staff_bp.post("/plans/<int:plan_id>/reject")
@staff_required(*ROLES)
def reject(plan_id):
    plan = _plan_or_404(plan_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return detail(plan_id, reject_form=form, status=422)
    try:
        decisions.reject(plan, current_user, form.reason.data)
        db.session.commit()
    except lifecycle.PlanError as exc:
        flash(_fail(plan, exc), "error")
        if exc.code == "beyond_authority":
            return detail(plan_id, status=403)
        return redirect(url_for(".detail", plan_id=plan_id))
    flash(_("The proposal is rejected; the cardholder sees your reason."), "success")
    return redirect(url_for(".queue"))


AGREED = (PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.BROKEN, PlanStatus.CANCELLED)
# Written with literals, exactly as the partial index ix_plan_agreed_id's predicate
# (AGREED_LISTED_SQL), so that the planner uses it whatever the statement's parameters.
_AGREED_LISTED = and_(Plan.status.in_([literal_column(f"'{s.value}'") for s in AGREED]),
                      Plan.started_on.is_not(None))


class Tally(NamedTuple):
    """A plan's instalments: in all, paid in full, missed, the money paid towards them
    (part-payments included) and the earliest due date not yet paid."""
    count: int
    paid: int
    missed: int
    paid_amount: int
    next_due: date | None


NO_TALLY = Tally(0, 0, 0, 0, None)  # a plan without instalments


def instalment_tally(plan_ids) -> dict[int, Tally]:
    """Per plan with instalments, its `Tally`, in one grouped query."""
    return {plan_id: Tally(int(n), int(p or 0), int(m or 0), int(amount or 0), due)
            for plan_id, n, p, m, amount, due in db.session.connection().execute(
                _tally_query(is_postgres()), {"ids": list(plan_ids)}).all()}


@functools.cache
def _tally_query(postgres: bool):
    """The statement of `instalment_tally`, built once per process (building it cost more
    Python than the rest of the agreed plans' rows): the ids bound per call, on PostgreSQL as
    one array (the same text and compiled form whatever their number)."""
    unpaid = PlanInstalment.status != InstalmentStatus.PAID
    paid = func.sum(case((PlanInstalment.status == InstalmentStatus.PAID, 1), else_=0))
    missed = func.sum(case((PlanInstalment.status == InstalmentStatus.MISSED, 1), else_=0))
    next_due = func.min(case((unpaid, PlanInstalment.due_date), else_=None))
    return (select(PlanInstalment.plan_id, func.count(), paid, missed,
                   func.sum(PlanInstalment.paid_amount), next_due)
            .where(ids_in(PlanInstalment.plan_id, postgres)).group_by(PlanInstalment.plan_id))


@staff_bp.get("/plans")
@read_only
@staff_required(*ROLES)
def agreed():
    """A page of agreed plans, newest first, in two statements (the columns a row shows,
    then the plans' instalments' tally); deep pages by key (`pagination.seek_page`)."""
    form = StatusFilterForm(request.args)
    form.status.choices = [("", _("All"))] + [(s.value, STATUS[s.value]) for s in AGREED]
    page_args, params = {}, {}
    if form.status.data and form.status.data in {s.value for s in AGREED}:
        page_args["status"] = form.status.data
        params["status"] = PlanStatus(form.status.data)
    found = seek_page(_agreed_query(bool(params)), _AGREED_KEYS, arg_page(), descending=True,
                      scalars=False, params=params, **arg_cursors())
    counts = instalment_tally([p.id for p in found.rows] or [0])
    return render_template("plans/staff_agreed.html", rows=_agreed_rows(found.rows, counts),
                           form=form, result=found, page_args=page_args)


# What a row of the agreed plans shows (no Plan entities with their terms), and its sort key.
_AGREED_COLUMNS = (Plan.id, Plan.status, Plan.total, Plan.currency, Account.account_number,
                   Cardholder.full_name)
_AGREED_KEYS = (Plan.id,)


@functools.cache  # built once per process, its page statements too (`seek_page`'s `params`)
def _agreed_query(by_status: bool):
    """The agreed plans' rows; `by_status`: of the status given as the "status" parameter."""
    query = (select(*_AGREED_COLUMNS).outerjoin(Plan.account).outerjoin(Account.cardholder)
             .where(_AGREED_LISTED))
    return query.where(Plan.status == bindparam("status")) if by_status else query


def _agreed_rows(plans, counts) -> list[Markup]:
    """Each row's HTML, kept per process under what it shows (`fragments.kept_rows`): its
    columns and its plan's instalment tally."""

    def key(p):
        return tuple(p), counts.get(p.id, NO_TALLY)

    return kept_rows("plans/_agreed_row.html", plans, key,
                     lambda missing: _agreed_cells(missing, counts))


def _agreed_cells(plans, counts) -> list[dict]:
    """Each row's text, worked out here with the request's formatter, the link built once and
    the labels and the "paid of" sentence translated once a page, so the row's macro only
    places text."""
    fmt, link, statuses = formatter(), id_link("plan_review.detail", "plan_id"), PageLabels(STATUS)
    paid_of = _("%(paid)s of %(count)s")
    rows = []
    for p in plans:
        c = counts.get(p.id, NO_TALLY)
        next_due = c.next_due if p.status == PlanStatus.ACTIVE else None
        rows.append({"id": p.id, "link": link(p.id), "account": p.account_number,
                     "holder": p.full_name, "status": statuses.get(p.status.value, p.status.value),
                     "next_due": fmt.day(next_due) if next_due else "",
                     "total": fmt.money(p.total, p.currency),
                     "paid_amount": fmt.money(c.paid_amount, p.currency),
                     "paid_of": paid_of % {"paid": c.paid, "count": c.count},
                     "missed": c.missed})
    return rows
