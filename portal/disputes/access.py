"""Who sees which dispute: the owner; staff by queue membership, managers all, legal what is
escalated to legal. Anything else is a 404, so ids reveal nothing."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.disputes import routing
from portal.disputes.models import Dispute, DisputeQueueMember
from portal.core.pagination import clamp_page
from portal.disputes.rules import ACTIVE, TERMINAL, DisputeStatus
from portal.extensions import db
from portal.staff.models import Role
from portal.timeutil import as_aware

WORKSPACE_ROLES = (Role.CUSTOMER_SERVICE, Role.COLLECTIONS_MANAGER, Role.LEGAL)
RULE_EDITORS = (Role.COLLECTIONS_MANAGER, Role.ADMIN)
CLOSED_PER_PAGE = 50


def is_manager(staff) -> bool:
    return staff.has_role(Role.COLLECTIONS_MANAGER)


def member_queue_ids(staff) -> set[int]:
    return set(db.session.scalars(select(DisputeQueueMember.queue_id)
                                  .where(DisputeQueueMember.staff_id == staff.id)))


def can_view(staff, dispute, queue_ids: set[int] | None = None) -> bool:
    """`queue_ids`: the staff member's queues when already known (a list checks many).
    The conduct rule comes first: a collector never sees a dispute in a managers' queue,
    whatever other roles (manager, legal) they also hold."""
    if dispute.queue is not None and not routing.conduct_eligible(dispute.queue, staff=staff):
        return False
    if is_manager(staff):
        return True
    if staff.has_role(Role.CUSTOMER_SERVICE) and (
            dispute.assignee_id == staff.id or dispute.queue_id in (
                member_queue_ids(staff) if queue_ids is None else queue_ids)):
        return True
    return staff.has_role(Role.LEGAL) and dispute.escalated_to == "legal"


def can_work(staff, dispute) -> bool:
    """Reply, ask, reassign, escalate, resolve: customer service in the queue, or a manager
    (never a collector on a conduct complaint, see `can_view`)."""
    if not can_view(staff, dispute):
        return False
    return is_manager(staff) or staff.has_role(Role.CUSTOMER_SERVICE)


def can_act_as_legal(staff, dispute) -> bool:
    """Legal adds internal notes and records legal steps on an open dispute escalated to
    legal; never anything the cardholder reads."""
    return (staff.has_role(Role.LEGAL) and dispute.escalated_to == "legal"
            and dispute.status in ACTIVE)


def owned_dispute_or_404(cardholder, dispute_id: int) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or dispute.cardholder_id != cardholder.id:
        abort(404)
    return dispute


def staff_dispute_or_404(staff, dispute_id: int, *, work: bool = False) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not (can_work if work else can_view)(staff, dispute):
        abort(404)
    return dispute


def _view_query(staff, view: str, queue_id: int | None):
    """The disputes of a view ("mine", "queue", "legal") as a query, before the per-dispute
    `can_view` check; None when the view shows this staff member nothing."""
    query = select(Dispute).options(selectinload(Dispute.assignee))
    if view == "mine":
        return query.where(Dispute.assignee_id == staff.id)
    if view == "legal":
        if not (staff.has_role(Role.LEGAL) or is_manager(staff)):
            return None
        return query.where(Dispute.escalated_to == "legal")
    if is_manager(staff):
        allowed = None
    elif staff.has_role(Role.CUSTOMER_SERVICE):
        allowed = member_queue_ids(staff)
    else:
        return None
    if queue_id is not None:
        if allowed is not None and queue_id not in allowed:
            return None
        return query.where(Dispute.queue_id == queue_id)
    if allowed is not None:
        return query.where(Dispute.queue_id.in_(list(allowed)))
    return query


def _visible(staff, disputes) -> list[Dispute]:
    queue_ids = member_queue_ids(staff) if staff.has_role(Role.CUSTOMER_SERVICE) else set()
    return [d for d in disputes if can_view(staff, d, queue_ids)]


def workspace_disputes(staff, *, view: str, queue_id: int | None = None,
                       include_closed: bool = False, limit: int = 200) -> list[Dispute]:
    """The disputes a staff member may see in a view ("mine", "queue", "legal"), open ones
    ordered by their next SLA deadline so overdue ones come first; those whose clock is
    paused (waiting for the cardholder) come last. A fixed number of queries, however many
    disputes are listed (queue and agent are loaded with them)."""
    query = _view_query(staff, view, queue_id)
    if query is None:
        return []
    if not include_closed:
        query = query.where(Dispute.status.in_(list(ACTIVE)))
    rows = _visible(staff, db.session.scalars(query.order_by(Dispute.id).limit(limit)))
    return sorted(rows, key=lambda d: (d.status == DisputeStatus.AWAITING_CUSTOMER,
                                       next_deadline(d)))


def closed_disputes(staff, *, view: str, queue_id: int | None = None,
                    page: int = 1) -> tuple[list[Dispute], bool]:
    """One page (CLOSED_PER_PAGE) of the closed disputes (resolved, rejected, withdrawn) a
    staff member may see in a view, most recently closed first, and whether another page
    follows. A page may hold fewer rows when the conduct rule hides some of them."""
    query = _view_query(staff, view, queue_id)
    if query is None:
        return [], False
    page = clamp_page(page)
    rows = db.session.scalars(
        query.where(Dispute.status.in_(list(TERMINAL)))
        .order_by(Dispute.closed_at.desc(), Dispute.id.desc())
        .offset((page - 1) * CLOSED_PER_PAGE).limit(CLOSED_PER_PAGE + 1)).all()
    return _visible(staff, rows[:CLOSED_PER_PAGE]), len(rows) > CLOSED_PER_PAGE


def next_deadline(dispute):
    """The deadline that runs now: acknowledge until acknowledged, then resolve."""
    due = dispute.acknowledge_by if dispute.acknowledged_at is None else dispute.resolve_by
    return as_aware(due)
