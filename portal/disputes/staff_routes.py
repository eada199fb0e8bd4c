"""The customer-service workspace: queues, "assigned to me", the dispute with its account
context, and every action on it. Access: see portal.disputes.access."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from portal.auth.session import staff_required
from portal.core.database import read_only
from portal.core.filters import delta_key, formatter
from portal.core.fragments import kept_rows
from portal.core.forms import parse_money_fields
from portal.core.inputs import arg_cursors, arg_page, parse_id
from portal.core.nav import staff_entry
from portal.core.urls import id_link
from portal.disputes import access, context, data, labels, sla, workflow
from portal.disputes import forms as f
from portal.disputes.models import Dispute, DisputeQueue
from portal.disputes.routes import send_attachment
from portal.disputes.rules import (ACTIVE, IllegalTransition, ResolutionRefused, TERMINAL,
                                   time_left)
from portal.disputes.services import DisputeRefused
from portal.disputes.views import template_helpers
from portal.extensions import db
from portal.staff.models import Role, StaffRole, StaffUser
from portal.timeutil import utcnow

bp = Blueprint("dispute_work", __name__, url_prefix="/staff/disputes")
bp.context_processor(template_helpers)
NAV = (
    staff_entry("dispute_work.index", _l("Disputes"), access.WORKSPACE_ROLES, order=30),
)
ROLES = access.WORKSPACE_ROLES


def sla_clock(dispute, fmt=None, now=None) -> dict:
    """The deadline that runs now and the time left; while the dispute waits for the
    cardholder the clock is paused (the wait is added to the deadline when they answer).
    `fmt`: the request's formatter, when a list already holds it; `now`: the moment the
    list's rows are kept under."""
    fmt = fmt or formatter()
    due = access.next_deadline(dispute)
    kind = "acknowledge" if dispute.acknowledged_at is None else "resolve"
    if sla.is_paused(dispute):
        return {"due": due, "overdue": False, "paused": True, "kind": kind,
                "text": _("Paused, waiting for the cardholder")}
    left = time_left(due, now or utcnow())
    return {"due": due, "overdue": left.total_seconds() < 0, "paused": False, "kind": kind,
            "text": fmt.delta(left), "due_text": fmt.moment(due)}


def visible_queues(visibility: access.Visibility, queues) -> list[DisputeQueue]:
    if visibility.manager:
        return list(queues)
    mine = visibility.member_queue_ids if visibility.service else frozenset()
    return [q for q in queues if q.id in mine]


# What a row of the list shows, read as a row of columns (queue and agent joined), with the
# sort keys `access.workspace_disputes` and `closed_disputes` page by.
LISTED = (select(Dispute.id, Dispute.category, Dispute.status, Dispute.acknowledged_at,
                 Dispute.acknowledge_by, Dispute.resolve_by, Dispute.closed_at,
                 Dispute.sla_paused, Dispute.sla_due_at, DisputeQueue.code,
                 StaffUser.name.label("agent"))
          .join(DisputeQueue, DisputeQueue.id == Dispute.queue_id)
          .outerjoin(StaffUser, StaffUser.id == Dispute.assignee_id))


def _rows(disputes, closed: bool) -> list[Markup]:
    """Each row's HTML, kept per process under what it shows (`fragments.kept_rows`): its
    columns and, while its clock runs, what the time left reads as (`filters.delta_key`:
    the deadline itself is among the columns)."""
    now = utcnow()

    def key(d):
        if closed or sla.is_paused(d):
            return closed, tuple(d)
        return closed, tuple(d), delta_key(time_left(access.next_deadline(d), now))

    # the formatter only for rows not kept
    return kept_rows("disputes/staff/_row.html", disputes, key,
                     lambda missing: _cells(missing, closed, formatter(), now))


def _cells(disputes, closed: bool, fmt, now) -> list[dict]:
    """What each row shows, with the labels looked up once, so the row's macro only places
    text."""
    categories = {k: str(v) for k, v in labels.CATEGORY_LABELS.items()}
    statuses = {k: str(v) for k, v in labels.STAFF_STATUS.items()}
    queue_names: dict[str, str] = {}
    unassigned = _("Unassigned")
    link = id_link("dispute_work.show", "dispute_id")
    rows = []
    for d in disputes:
        if d.code not in queue_names:
            queue_names[d.code] = str(labels.queue_label(d.code))
        rows.append({"id": d.id, "link": link(d.id),
                     "category": categories.get(d.category, d.category),
                     "status": statuses[d.status.value], "queue": queue_names[d.code],
                     "agent": d.agent if d.agent is not None else unassigned,
                     "closed": fmt.moment(d.closed_at) if closed and d.closed_at else "",
                     "clock": None if closed else sla_clock(d, fmt, now)})
    return rows


@bp.get("/")
@read_only
@staff_required(*ROLES)
def index():
    """A page of disputes in a fixed number of SQL statements (the queues with their
    members, then the page's columns with queue and agent)."""
    all_queues = access.queues_with_members()
    visibility = access.Visibility.of(current_user, all_queues)
    queues = visible_queues(visibility, all_queues)
    view = request.args.get("view") or (
        "mine" if visibility.service else "queue" if visibility.manager else "legal")
    queue_id = request.args.get("queue")
    if queue_id is not None:
        queue_id = parse_id(queue_id)
    if queue_id is not None and queue_id not in {q.id for q in queues}:
        abort(404)
    closed = request.args.get("state") == "closed"
    listing = access.closed_disputes if closed else access.workspace_disputes
    result = listing(current_user, view=view, queue_id=queue_id, page=arg_page(),
                     visibility=visibility, listed=LISTED, **arg_cursors())
    show_legal = current_user.has_role(Role.LEGAL, Role.COLLECTIONS_MANAGER)
    return render_template("disputes/staff/index.html", rows=_rows(result.rows, closed),
                           queues=queues, view=view, queue_id=queue_id, labels=labels,
                           closed=closed, page=result.page, result=result,
                           show_legal=show_legal,
                           nav_key=(view, queue_id, closed, show_legal,
                                    tuple((q.id, q.code) for q in queues)))


def _assignee_choices():
    staff = db.session.scalars(
        select(StaffUser).join(StaffRole)
        .where(StaffUser.active.is_(True),
               StaffRole.role.in_([Role.CUSTOMER_SERVICE, Role.COLLECTIONS_MANAGER]))
        .order_by(StaffUser.name).distinct()).all()
    return ([("auto", _l("Least busy agent who speaks the language")),
             ("none", _l("Nobody (leave in queue)"))]
            + [(str(s.id), s.name) for s in staff])


def _forms(dispute):
    forms = {
        "message": f.StaffMessageForm(prefix="msg"), "documents": f.RequestDocumentsForm(prefix="doc"),
        "ack": f.ActionForm(prefix="ack"), "reassign": f.ReassignForm(prefix="re"),
        "escalate": f.EscalateForm(prefix="esc"), "resolve": f.ResolveForm(prefix="res"),
        "approve": f.ApproveForm(prefix="ap"), "refuse": f.RefuseForm(prefix="rf"),
        "legal": f.LegalForm(prefix="lg"),
    }
    forms["reassign"].queue.choices = [(q.id, labels.queue_label(q.code)) for q in
                                       db.session.scalars(select(DisputeQueue)
                                                          .order_by(DisputeQueue.id))]
    forms["reassign"].queue.data = forms["reassign"].queue.data or dispute.queue_id
    forms["reassign"].assignee.choices = _assignee_choices()
    return forms


@bp.get("/<int:dispute_id>")
@staff_required(*ROLES)
def show(dispute_id):
    return _render_show(access.staff_dispute_or_404(current_user, dispute_id))


def _render_show(dispute, status=200, **posted):
    """The dispute page; `posted` forms (by name in _forms) replace the empty ones, so a
    refused amount is shown next to its field with what was typed."""
    can_work = access.can_work(current_user, dispute)
    forms = _forms(dispute) | posted
    return render_template(
        "disputes/staff/show.html", dispute=dispute, ctx=context.account_context(dispute),
        forms=forms, can_work=can_work, closed=dispute.status in TERMINAL,
        is_manager=access.is_manager(current_user), clock=sla_clock(dispute), labels=labels,
        pause=sla.open_pause(dispute) if sla.is_paused(dispute) else None,
        can_legal=access.can_act_as_legal(current_user, dispute),
        templates=data.REPLY_TEMPLATES, active=ACTIVE,
        threshold=workflow.approval_threshold()), status


def _act(dispute_id, form, action, *, manager=False, money=None):
    """Validate the form, run one workflow action, commit once; refusals come back as a flash.
    `money` is (form name, field names): a refused amount re-renders the page with the
    message on the field instead."""
    dispute = access.staff_dispute_or_404(current_user, dispute_id, work=True)
    if manager and not access.is_manager(current_user):
        abort(403)
    valid = form.validate_on_submit()
    if money and not parse_money_fields(form, dispute.currency, money[1]):
        flash(_("Please check the form."), "error")
        return _render_show(dispute, 422, **{money[0]: form})
    if not valid:
        problems = [str(e) for errs in form.errors.values() for e in errs]
        flash(" ".join(problems) or _("Please check the form."), "error")
        return redirect(url_for(".show", dispute_id=dispute.id))
    try:
        action(dispute)
    except (DisputeRefused, ResolutionRefused, IllegalTransition) as exc:
        db.session.rollback()
        flash(_message_for(exc), "error")
    else:
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for(".show", dispute_id=dispute.id))


def _message_for(exc) -> str:
    if isinstance(exc, DisputeRefused):
        return exc.message
    if isinstance(exc, ResolutionRefused):
        return str(labels.RESOLUTION_ERRORS.get(exc.code, exc.code))
    return _("That action is not possible in the dispute's current status.")


def _text(field) -> str:
    return (field.data or "").strip()


@bp.post("/<int:dispute_id>/acknowledge")
@staff_required(*ROLES)
def acknowledge(dispute_id):
    return _act(dispute_id, f.ActionForm(prefix="ack"),
                lambda d: workflow.acknowledge(d, current_user))


@bp.post("/<int:dispute_id>/message")
@staff_required(*ROLES)
def message(dispute_id):
    form = f.StaffMessageForm(prefix="msg")
    return _act(dispute_id, form, lambda d: workflow.staff_message(
        d, current_user, _text(form.body), customer_visible=form.kind.data == "reply",
        template=form.template.data or None))


@bp.post("/<int:dispute_id>/documents")
@staff_required(*ROLES)
def documents(dispute_id):
    form = f.RequestDocumentsForm(prefix="doc")
    return _act(dispute_id, form, lambda d: workflow.request_documents(
        d, current_user, _text(form.body), template=form.template.data or None))


@bp.post("/<int:dispute_id>/reassign")
@staff_required(*ROLES)
def reassign(dispute_id):
    form = f.ReassignForm(prefix="re")
    form.queue.choices = [(q.id, q.code) for q in db.session.scalars(select(DisputeQueue))]
    form.assignee.choices = _assignee_choices()

    def action(d):
        queue = db.session.get(DisputeQueue, form.queue.data)
        choice = form.assignee.data
        assignee = db.session.get(StaffUser, parse_id(choice)) if parse_id(choice) else None
        workflow.reassign(d, current_user, queue, assignee, automatic=choice == "auto")
    return _act(dispute_id, form, action)


@bp.post("/<int:dispute_id>/escalate")
@staff_required(*ROLES)
def escalate(dispute_id):
    form = f.EscalateForm(prefix="esc")
    return _act(dispute_id, form, lambda d: workflow.escalate(d, current_user, form.to.data,
                                                              _text(form.note)))


@bp.post("/<int:dispute_id>/resolve")
@staff_required(*ROLES)
def resolve(dispute_id):
    form = f.ResolveForm(prefix="res")

    def action(d):
        workflow.resolve(d, current_user, form.outcome.data, form.amount.minor, _text(form.reason))
    return _act(dispute_id, form, action, money=("resolve", ("amount",)))


@bp.post("/<int:dispute_id>/legal")
@staff_required(Role.LEGAL)
def legal(dispute_id):
    """Legal's internal note or legal step on a dispute escalated to legal."""
    dispute = access.staff_dispute_or_404(current_user, dispute_id)
    form = f.LegalForm(prefix="lg")
    if not access.can_act_as_legal(current_user, dispute):
        flash(_("This dispute is closed."), "error")
    elif not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs)
              or _("Please check the form."), "error")
    else:
        try:
            workflow.legal_record(dispute, current_user, form.step.data or None,
                                  _text(form.note))
        except DisputeRefused as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
    return redirect(url_for(".show", dispute_id=dispute.id))


@bp.post("/<int:dispute_id>/approve")
@staff_required(Role.COLLECTIONS_MANAGER)
def approve(dispute_id):
    return _act(dispute_id, f.ApproveForm(prefix="ap"),
                lambda d: workflow.approve(d, current_user), manager=True)


@bp.post("/<int:dispute_id>/refuse")
@staff_required(Role.COLLECTIONS_MANAGER)
def refuse(dispute_id):
    form = f.RefuseForm(prefix="rf")
    return _act(dispute_id, form, lambda d: workflow.refuse_approval(d, current_user,
                                                                     _text(form.note)),
                manager=True)


@bp.get("/<int:dispute_id>/files/<int:attachment_id>")
@staff_required(*ROLES)
def attachment(dispute_id, attachment_id):
    dispute = access.staff_dispute_or_404(current_user, dispute_id)
    return send_attachment(dispute, attachment_id)
