"""Who sees which dispute: the owner; staff by queue membership, managers all, legal what is
escalated to legal. Anything else is a 404, so ids reveal nothing."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import joinedload

from portal.core.pagination import Page, clamp_page, seek_page
from portal.disputes import routing
from portal.disputes.models import Dispute, DisputeQueue, DisputeQueueMember
from portal.disputes.rules import ACTIVE, TERMINAL
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


@dataclass(frozen=True)
class Visibility:
    """What one staff member may see, worked out once (one query for the queues and their
    members) and then applied to a dispute in Python (`allows`) or to a list in SQL
    (`clause`), so a page of disputes is filtered by the database, never row by row. The
    conduct rule is asked per queue (`routing.conduct_eligible`, its one place)."""
    staff_id: int
    eligible_queue_ids: frozenset[int]  # queues the conduct rule lets this person see
    member_queue_ids: frozenset[int]
    manager: bool
    service: bool
    legal: bool

    @classmethod
    def of(cls, staff, queues: list[DisputeQueue] | None = None) -> Visibility:
        if queues is None:
            queues = list(db.session.scalars(select(DisputeQueue)))
        return cls(staff.id,
                   frozenset(q.id for q in queues if routing.conduct_eligible(q, staff=staff)),
                   frozenset(q.id for q in queues
                             if any(m.staff_id == staff.id for m in q.members)),
                   is_manager(staff), staff.has_role(Role.CUSTOMER_SERVICE),
                   staff.has_role(Role.LEGAL))

    def allows(self, dispute) -> bool:
        if dispute.queue_id not in self.eligible_queue_ids:
            return False
        if self.manager:
            return True
        if self.service and (dispute.assignee_id == self.staff_id
                             or dispute.queue_id in self.member_queue_ids):
            return True
        return self.legal and dispute.escalated_to == "legal"

    def clause(self):
        """`allows` as a WHERE clause on Dispute."""
        ways = []
        if self.manager:
            ways.append(true())
        if self.service:
            ways.append(or_(Dispute.assignee_id == self.staff_id,
                            Dispute.queue_id.in_(sorted(self.member_queue_ids))))
        if self.legal:
            ways.append(Dispute.escalated_to == "legal")
        if not ways or not self.eligible_queue_ids:
            return false()
        return and_(Dispute.queue_id.in_(sorted(self.eligible_queue_ids)), or_(*ways))


def can_view(staff, dispute) -> bool:
    """The owner aside, who sees a dispute (see `Visibility`): the conduct rule comes first,
    so a collector never sees a dispute in a managers' queue, whatever other roles (manager,
    legal) they also hold."""
    return Visibility.of(staff).allows(dispute)


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


def view_criterion(staff, view: str, queue_id: int | None,
                   visibility: Visibility | None = None):
    """Which disputes of a view ("mine", "queue", "legal") this staff member may see, as a
    WHERE clause on Dispute (the one place that says it, whatever a list selects); None
    when the view shows them nothing."""
    visibility = visibility or Visibility.of(staff)
    seen = visibility.clause()
    if view == "mine":
        return and_(seen, Dispute.assignee_id == staff.id)
    if view == "legal":
        if not (visibility.legal or visibility.manager):
            return None
        return and_(seen, Dispute.escalated_to == "legal")
    if not (visibility.manager or visibility.service):
        return None
    if queue_id is not None:
        if not visibility.manager and queue_id not in visibility.member_queue_ids:
            return None
        return and_(seen, Dispute.queue_id == queue_id)
    if not visibility.manager:
        return and_(seen, Dispute.queue_id.in_(sorted(visibility.member_queue_ids)))
    return seen


def _view_query(staff, view: str, queue_id: int | None,
                visibility: Visibility | None = None, listed=None):
    """`listed` (a select of columns over Dispute; default: Dispute entities with queue and
    agent joined) narrowed to the disputes of a view this staff member may see
    (`view_criterion`); None when the view shows them nothing."""
    criterion = view_criterion(staff, view, queue_id, visibility)
    if criterion is None:
        return None
    if listed is None:
        # queue and agent in the same statement, without what they would load in turn
        # (members, roles) that a list never shows
        listed = select(Dispute).options(joinedload(Dispute.assignee).lazyload("*"),
                                         joinedload(Dispute.queue).lazyload("*"))
    return listed.where(criterion)


def workspace_disputes(staff, *, view: str, queue_id: int | None = None, page: int = 1,
                       visibility: Visibility | None = None, after: str | None = None,
                       before: str | None = None, listed=None) -> Page:
    """One page (pagination.PER_PAGE) of the open disputes a staff member may see in a view
    ("mine", "queue", "legal"), ordered by the deadline that runs now so overdue ones come first;
    those whose clock is paused (waiting for the cardholder) come last. One query, however
    many disputes there are: the order is the stored `sla_paused, sla_due_at` (see
    models.Dispute), which an index serves; deep pages by key (`pagination.seek_page`: both
    are set together, so neither is NULL where the deadline is not). `listed`: a select of
    columns over Dispute (holding the sort keys) for rows of those columns, not entities."""
    query = _view_query(staff, view, queue_id, visibility, listed)
    if query is None:
        return Page([], clamp_page(page), False)
    return seek_page(query.where(Dispute.sla_due_at.is_not(None)),
                     (Dispute.sla_paused, Dispute.sla_due_at, Dispute.id), page, after=after,
                     before=before, scalars=listed is None)


def closed_disputes(staff, *, view: str, queue_id: int | None = None, page: int = 1,
                    visibility: Visibility | None = None, after: str | None = None,
                    before: str | None = None, listed=None) -> Page:
    """One page (pagination.PER_PAGE) of the closed disputes (resolved, rejected, withdrawn)
    a staff member may see in a view, most recently closed first (`listed`: as in
    `workspace_disputes`)."""
    query = _view_query(staff, view, queue_id, visibility, listed)
    if query is None:
        return Page([], clamp_page(page), False)
    return seek_page(query.where(Dispute.status.in_(list(TERMINAL)),
                                 Dispute.closed_at.is_not(None)),
                     (Dispute.closed_at, Dispute.id), page, after=after, before=before,
                     descending=True, scalars=listed is None)


def next_deadline(dispute):
    """The deadline that runs now: acknowledge until acknowledged, then resolve."""
    due = dispute.acknowledge_by if dispute.acknowledged_at is None else dispute.resolve_by
    return as_aware(due)
