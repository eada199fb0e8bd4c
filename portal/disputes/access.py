"""Who sees which dispute: the owner; staff by queue membership, managers all, legal what is
escalated to legal. Anything else is a 404, so ids reveal nothing."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.disputes import routing
from portal.disputes.models import Dispute, DisputeQueueMember
from portal.disputes.rules import ACTIVE, DisputeStatus
from portal.extensions import db
from portal.staff.models import Role
from portal.timeutil import as_aware

WORKSPACE_ROLES = (Role.CUSTOMER_SERVICE, Role.COLLECTIONS_MANAGER, Role.LEGAL)
RULE_EDITORS = (Role.COLLECTIONS_MANAGER, Role.ADMIN)


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


def workspace_disputes(staff, *, view: str, queue_id: int | None = None,
                       include_closed: bool = False, limit: int = 200) -> list[Dispute]:
    """The disputes a staff member may see in a view ("mine", "queue", "legal"), open ones
    ordered by their next SLA deadline so overdue ones come first; those whose clock is
    paused (waiting for the cardholder) come last. A fixed number of queries, however many
    disputes are listed (queue and agent are loaded with them)."""
    query = select(Dispute).options(selectinload(Dispute.assignee))
    if not include_closed:
        query = query.where(Dispute.status.in_(list(ACTIVE)))
    if view == "mine":
        query = query.where(Dispute.assignee_id == staff.id)
    elif view == "legal":
        query = query.where(Dispute.escalated_to == "legal")
        if not (staff.has_role(Role.LEGAL) or is_manager(staff)):
            return []
    else:
        if is_manager(staff):
            allowed = None
        elif staff.has_role(Role.CUSTOMER_SERVICE):
            allowed = member_queue_ids(staff)
        else:
            return []
        if queue_id is not None:
            if allowed is not None and queue_id not in allowed:
                return []
            query = query.where(Dispute.queue_id == queue_id)
        elif allowed is not None:
            query = query.where(Dispute.queue_id.in_(list(allowed)))
    queue_ids = member_queue_ids(staff) if staff.has_role(Role.CUSTOMER_SERVICE) else set()
    rows = [d for d in db.session.scalars(query.order_by(Dispute.id).limit(limit))
            if can_view(staff, d, queue_ids)]
    return sorted(rows, key=lambda d: (d.status == DisputeStatus.AWAITING_CUSTOMER,
                                       next_deadline(d)))


def next_deadline(dispute):
    """The deadline that runs now: acknowledge until acknowledged, then resolve."""
    due = dispute.acknowledge_by if dispute.acknowledged_at is None else dispute.resolve_by
    return as_aware(due)
