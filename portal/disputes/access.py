"""Who sees which dispute: the owner; staff by queue membership, managers all, legal what is
escalated to legal. Anything else is a 404, so ids reveal nothing."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

from flask import abort
from sqlalchemy import and_, bindparam, false, or_, select, true
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import visitors

from portal.bulk import ids_in, is_postgres
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


class QueueMember(NamedTuple):
    staff_id: int


class ListedQueue(NamedTuple):
    """A queue as a list reads it: what the access rule asks of it (`Visibility`,
    `routing.conduct_eligible`: id, managers only, members' ids) and a page shows (code)."""
    id: int
    code: str
    managers_only: bool
    members: tuple[QueueMember, ...]


_QUEUE = DisputeQueue.__table__
_MEMBER = DisputeQueueMember.__table__
# Every queue with its members' ids, one row per membership (one with no member for an
# empty queue): one Core statement, built once (found compiled after that).
_QUEUES_WITH_MEMBERS = (select(_QUEUE.c.id, _QUEUE.c.code, _QUEUE.c.managers_only,
                               _MEMBER.c.staff_id)
                        .select_from(_QUEUE.outerjoin(_MEMBER, _MEMBER.c.queue_id == _QUEUE.c.id))
                        .order_by(_QUEUE.c.id, _MEMBER.c.staff_id))


def queues_with_members() -> list[ListedQueue]:
    """Every queue with its members, by id, in one statement, as columns rather than ORM
    entities (half the Python of loading the entities with their members)."""
    queues: dict[int, tuple[str, bool, list[QueueMember]]] = {}
    for queue_id, code, managers_only, staff_id in db.session.connection().execute(
            _QUEUES_WITH_MEMBERS).all():  # fetched at once, not a call a row
        members = queues.setdefault(queue_id, (code, managers_only, []))[2]
        if staff_id is not None:
            members.append(QueueMember(staff_id))
    return [ListedQueue(queue_id, code, bool(managers_only), tuple(members))
            for queue_id, (code, managers_only, members) in queues.items()]


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
        """`allows` as a WHERE clause on Dispute (`seen_clause` with this person's values)."""
        return _bound(seen_clause(self.ways(), is_postgres()), self.params())

    def ways(self) -> tuple[bool, bool, bool]:
        """The shape of `seen_clause` for this person: (manager, service, legal)."""
        return self.manager, self.service, self.legal

    def params(self) -> dict:
        """The values `seen_clause` and `view_criterion` bind for this person."""
        return {"seen_staff_id": self.staff_id,
                "seen_eligible": sorted(self.eligible_queue_ids),
                "seen_member": sorted(self.member_queue_ids)}


@functools.cache  # statements are immutable: built once per process, found compiled
def seen_clause(ways: tuple[bool, bool, bool], postgres: bool):
    """`Visibility.allows` as a WHERE clause on Dispute, for the roles `ways` (manager,
    service, legal), who it is and their queues bound per request (`Visibility.params`:
    :seen_staff_id, the arrays :seen_eligible and :seen_member), so one statement serves
    every staff member with the same roles."""
    manager, service, legal = ways
    clauses = []
    if manager:
        clauses.append(true())
    if service:
        clauses.append(or_(Dispute.assignee_id == bindparam("seen_staff_id"),
                           ids_in(Dispute.queue_id, postgres, "seen_member")))
    if legal:
        clauses.append(Dispute.escalated_to == "legal")
    if not clauses:
        return false()
    return and_(ids_in(Dispute.queue_id, postgres, "seen_eligible"), or_(*clauses))


def _bound(clause, values: dict):
    """A copy of `clause` with `values` in its bind parameters (a WHERE clause that stands
    alone; the lists pass the values to the statement instead)."""
    def bind(parameter):
        if parameter.key in values:
            parameter.value, parameter.required = values[parameter.key], False

    return visitors.cloned_traverse(clause, {}, {"bindparam": bind})


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


def view_shape(visibility: Visibility, view: str, queue_id: int | None) -> tuple | None:
    """What `view_criterion` builds for this person and view (None: the view shows them
    nothing): the roles, the view, and whether one queue is asked for. Whether they may see
    that queue is decided here, on their values; the statement only binds its id."""
    if view == "legal" and not (visibility.legal or visibility.manager):
        return None
    if view not in ("mine", "legal"):
        if not (visibility.manager or visibility.service):
            return None
        if (queue_id is not None and not visibility.manager
                and queue_id not in visibility.member_queue_ids):
            return None
        view = "queue"
    return visibility.ways(), view, queue_id is not None


@functools.cache  # one per shape and dialect: built once per process, found compiled
def _criterion(shape: tuple, postgres: bool):
    ways, view, one_queue = shape
    manager = ways[0]
    seen = seen_clause(ways, postgres)
    if view == "mine":
        return and_(seen, Dispute.assignee_id == bindparam("seen_staff_id"))
    if view == "legal":
        return and_(seen, Dispute.escalated_to == "legal")
    if one_queue:
        return and_(seen, Dispute.queue_id == bindparam("view_queue_id"))
    if not manager:
        return and_(seen, ids_in(Dispute.queue_id, postgres, "seen_member"))
    return seen


def view_criterion(staff, view: str, queue_id: int | None,
                   visibility: Visibility | None = None):
    """Which disputes of a view ("mine", "queue", "legal") this staff member may see, as a
    WHERE clause on Dispute (the one place that says it, whatever a list selects), with
    their values bound; None when the view shows them nothing. Lists use `view_statement`
    (the same clause, built once per process, the values bound per request)."""
    visibility = visibility or Visibility.of(staff)
    shape = view_shape(visibility, view, queue_id)
    if shape is None:
        return None
    return _bound(_criterion(shape, is_postgres()), _view_params(visibility, queue_id))


def _view_params(visibility: Visibility, queue_id: int | None) -> dict:
    return visibility.params() | {"view_queue_id": queue_id}


# Page queries of the dispute lists, one per (list, what it selects, shape, dialect), built
# once per process (`seek_page`'s `params` then keeps their page statements too): the listed
# select is kept beside the query so its id is never another's.
_BUILT: dict[tuple, tuple] = {}


def _entities():
    # queue and agent in the same statement, without what they would load in turn
    # (members, roles) that a list never shows
    return select(Dispute).options(joinedload(Dispute.assignee).lazyload("*"),
                                   joinedload(Dispute.queue).lazyload("*"))


def _view_query(staff, view: str, queue_id: int | None, visibility: Visibility | None,
                listed, closed: bool):
    """(query, params): `listed` (a select of columns over Dispute; default: Dispute
    entities with queue and agent joined) narrowed to the open (or `closed`) disputes of a
    view this staff member may see (`view_criterion`'s clause, its values in `params`);
    (None, None) when the view shows them nothing."""
    visibility = visibility or Visibility.of(staff)
    shape = view_shape(visibility, view, queue_id)
    if shape is None:
        return None, None
    postgres = is_postgres()
    key = (closed, id(listed), shape, postgres)
    found = _BUILT.get(key)
    if found is None or found[0] is not listed:
        query = (_entities() if listed is None else listed).where(_criterion(shape, postgres))
        if closed:
            query = query.where(Dispute.status.in_(list(TERMINAL)),
                                Dispute.closed_at.is_not(None))
        else:
            query = query.where(Dispute.sla_due_at.is_not(None))
        found = _BUILT[key] = (listed, query)
    return found[1], _view_params(visibility, queue_id)


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
    query, params = _view_query(staff, view, queue_id, visibility, listed, closed=False)
    if query is None:
        return Page([], clamp_page(page), False)
    return seek_page(query, (Dispute.sla_paused, Dispute.sla_due_at, Dispute.id), page,
                     after=after, before=before, scalars=listed is None, params=params)


def closed_disputes(staff, *, view: str, queue_id: int | None = None, page: int = 1,
                    visibility: Visibility | None = None, after: str | None = None,
                    before: str | None = None, listed=None) -> Page:
    """One page (pagination.PER_PAGE) of the closed disputes (resolved, rejected, withdrawn)
    a staff member may see in a view, most recently closed first (`listed`: as in
    `workspace_disputes`)."""
    query, params = _view_query(staff, view, queue_id, visibility, listed, closed=True)
    if query is None:
        return Page([], clamp_page(page), False)
    return seek_page(query, (Dispute.closed_at, Dispute.id), page, after=after, before=before,
                     descending=True, scalars=listed is None, params=params)


def next_deadline(dispute):
    """The deadline that runs now: acknowledge until acknowledged, then resolve."""
    due = dispute.acknowledge_by if dispute.acknowledged_at is None else dispute.resolve_by
    return as_aware(due)
