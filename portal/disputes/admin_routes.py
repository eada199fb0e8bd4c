"""Routing rules and queue membership, edited by collections managers and admins."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from portal.staff.services import find_by_email
from portal.auth.session import staff_required
from portal.core.forms import parse_money_fields
from portal.core.nav import staff_entry
from portal.disputes import access, labels, routing
from portal.disputes.forms import MemberForm, RuleForm
from portal.disputes.models import DisputeQueue, DisputeRoutingRule, StaffLanguage
from portal.domain.money import MoneyError, precision, to_major
from portal.disputes.views import template_helpers
from portal.extensions import db

bp = Blueprint("dispute_admin", __name__, url_prefix="/staff/disputes/setup")
bp.context_processor(template_helpers)
NAV = (
    staff_entry("dispute_admin.rules", _l("Dispute routing"), access.RULE_EDITORS, order=35),
)
EDITORS = access.RULE_EDITORS


def _queues():
    # The default queues must outlive this request even when it only reads (a GET): the form
    # offers their ids, and on PostgreSQL a rolled-back insert never gives the same id again.
    routing.ensure_defaults()
    db.session.commit()
    return db.session.scalars(select(DisputeQueue).order_by(DisputeQueue.id)).all()


def _major(value, currency):
    """A bound in major units of its currency, as typed in the form (1000.00 CNY, 1000 JPY)."""
    return "" if value is None or not currency else str(to_major(value, currency))


def _render_rules(form, editing=None, status=200):
    return render_template("disputes/staff/rules.html", form=form, rules=routing.all_rules(),
                           editing=editing, labels=labels), status


def _rule_form(rule=None):
    form = RuleForm(obj=None)
    form.queue.choices = [(q.id, labels.queue_label(q.code)) for q in _queues()]
    return form


def _bounds(form):
    """(currency, low, high) in minor units of the rule's currency, or None with form errors."""
    currency = (form.currency.data or "").strip().upper() or None
    if currency is None:
        if any((f.data or "").strip() for f in (form.min_amount, form.max_amount)):
            form.currency.errors.append(_("Say which currency the amounts are in."))
            return None
        return None, None, None
    try:
        precision(currency)
    except MoneyError:
        form.currency.errors.append(_("Enter a currency code such as CNY, USD or JPY."))
        return None
    if not parse_money_fields(form, currency, ("min_amount", "max_amount")):
        return None
    return currency, form.min_amount.minor, form.max_amount.minor


def _save(form, rule):
    bounds = _bounds(form)
    if bounds is None:
        return None
    currency, low, high = bounds
    if low is not None and high is not None and low > high:
        form.max_amount.errors.append(_("The largest amount must not be below the smallest."))
        return None
    saved = routing.save_rule(rule, priority=form.priority.data,
                              category=form.category.data or None,
                              language=form.language.data or None, min_amount=low,
                              max_amount=high, queue_id=form.queue.data, currency=currency)
    db.session.commit()
    flash(_("The routing rule has been saved."), "success")
    return saved


@bp.route("/rules", methods=["GET", "POST"])
@staff_required(*EDITORS)
def rules():
    form = _rule_form()
    if form.validate_on_submit():
        if _save(form, None):
            return redirect(url_for(".rules"))
        return _render_rules(form, status=400)
    return _render_rules(form, status=400 if form.errors else 200)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@staff_required(*EDITORS)
def edit_rule(rule_id):
    rule = db.session.get(DisputeRoutingRule, rule_id) or abort(404)
    form = _rule_form()
    if form.validate_on_submit():
        if _save(form, rule):
            return redirect(url_for(".rules"))
        return _render_rules(form, rule, 400)
    if not form.is_submitted():
        form.priority.data, form.category.data = rule.priority, rule.category or ""
        form.language.data, form.queue.data = rule.language or "", rule.queue_id
        form.min_amount.data = _major(rule.min_amount, rule.currency)
        form.max_amount.data = _major(rule.max_amount, rule.currency)
        form.currency.data = rule.currency or ""
    return _render_rules(form, rule, 400 if form.errors else 200)


@bp.post("/rules/<int:rule_id>/delete")
@staff_required(*EDITORS)
def delete_rule(rule_id):
    from flask_wtf import FlaskForm

    rule = db.session.get(DisputeRoutingRule, rule_id) or abort(404)
    if FlaskForm().validate_on_submit():
        routing.delete_rule(rule)
        db.session.commit()
        flash(_("The routing rule has been deleted."), "success")
    return redirect(url_for(".rules"))


@bp.route("/queues", methods=["GET", "POST"])
@staff_required(*EDITORS)
def queues():
    queues = _queues()
    form = MemberForm()
    form.queue.choices = [(q.id, labels.queue_label(q.code)) for q in queues]
    status = 200
    if form.validate_on_submit():
        staff = find_by_email(form.email.data)
        queue = db.session.get(DisputeQueue, form.queue.data)
        if staff is None:
            form.email.errors.append(_("No staff member has that email."))
        else:
            try:
                routing.set_membership(queue, staff, form.action.data == "add")
            except ValueError:
                form.email.errors.append(_("Only customer service and managers can work "
                                           "queues; collectors never work conduct complaints."))
            else:
                if form.languages.data:
                    routing.set_languages(staff, form.languages.data)
                db.session.commit()
                flash(_("The queue has been updated."), "success")
                return redirect(url_for(".queues"))
        status = 400
    elif form.errors:
        status = 400
    members = {q.id: routing.members(q) for q in queues}
    ids = [s.id for group in members.values() for s in group]
    langs = {}
    for row in db.session.scalars(select(StaffLanguage).where(StaffLanguage.staff_id.in_(ids))):
        langs.setdefault(row.staff_id, []).append(labels.LANGUAGE_LABELS.get(row.language,
                                                                             row.language))
    return render_template("disputes/staff/queues.html", form=form, queues=queues,
                           members=members, langs=langs, labels=labels), status
