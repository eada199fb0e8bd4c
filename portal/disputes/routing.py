"""Queues, members, languages and routing rules in the database; choosing queue and agent."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.services import record
from portal.disputes import data
from portal.disputes.models import (Dispute, DisputeQueue, DisputeQueueMember,
                                    DisputeRoutingRule, StaffLanguage)
from portal.disputes.rules import ACTIVE, Agent, Rule, choose_agent, match_rule
from portal.extensions import db
from portal.staff.models import Role, StaffUser


def ensure_defaults() -> dict[str, DisputeQueue]:
    """The queues by code; an empty database gets the default queues and rules first."""
    queues = {q.code: q for q in db.session.scalars(select(DisputeQueue))}
    if queues:
        return queues
    for code, managers_only in data.QUEUES:
        queues[code] = DisputeQueue(code=code, managers_only=managers_only)
        db.session.add(queues[code])
    db.session.flush()
    for priority, category, language, low, high, code in data.DEFAULT_RULES:
        db.session.add(DisputeRoutingRule(priority=priority, category=category,
                                          language=language, min_amount=low, max_amount=high,
                                          queue_id=queues[code].id))
    db.session.flush()
    record("dispute.routing_seeded", subject_type="dispute_queue",
           after={"queues": sorted(queues)})
    return queues


def all_rules() -> list[DisputeRoutingRule]:
    return list(db.session.scalars(
        select(DisputeRoutingRule).order_by(DisputeRoutingRule.priority, DisputeRoutingRule.id)))


def open_items(staff_ids) -> dict[int, int]:
    rows = db.session.execute(
        select(Dispute.assignee_id, func.count())
        .where(Dispute.assignee_id.in_(list(staff_ids)), Dispute.status.in_(list(ACTIVE)))
        .group_by(Dispute.assignee_id))
    return {staff_id: count for staff_id, count in rows}


def languages_of(staff_ids) -> dict[int, frozenset]:
    result: dict[int, set] = {sid: set() for sid in staff_ids}
    for row in db.session.scalars(
            select(StaffLanguage).where(StaffLanguage.staff_id.in_(list(staff_ids)))):
        result[row.staff_id].add(row.language)
    return {sid: frozenset(langs) for sid, langs in result.items()}


CONDUCT_COMPLAINT = "conduct_complaint"


def conduct_eligible(queue: DisputeQueue, *, category: str | None = None,
                     staff: StaffUser | None = None) -> bool:
    """The conduct rule, the one place it is written: a conduct complaint goes only to a
    queue managers see (`managers_only`), and nobody who is a collector works, sees or is
    given a dispute in such a queue, whatever other roles they hold. Pass the dispute's
    `category`, the `staff` member, or both; what is not passed is not judged. Routing,
    reassignment, queue membership and the staff access check all ask this."""
    if category == CONDUCT_COMPLAINT and not queue.managers_only:
        return False
    return not (staff is not None and queue.managers_only and staff.has_role(Role.COLLECTOR))


def can_work(staff: StaffUser, queue: DisputeQueue) -> bool:
    """Customer service (or a manager) may work a queue; a collector never a conduct one."""
    if not staff.active or not conduct_eligible(queue, staff=staff):
        return False
    return staff.has_role(Role.CUSTOMER_SERVICE, Role.COLLECTIONS_MANAGER)


def members(queue: DisputeQueue) -> list[StaffUser]:
    ids = [m.staff_id for m in queue.members]
    if not ids:
        return []
    return list(db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids))
                                   .order_by(StaffUser.id)))


def pick_agent(queue: DisputeQueue, language: str, *, exclude: int | None = None) -> int | None:
    """The queue member who speaks `language` with the fewest open disputes (tie: lowest id)."""
    staff = [s for s in members(queue) if can_work(s, queue) and s.id != exclude]
    ids = [s.id for s in staff]
    loads, langs = open_items(ids), languages_of(ids)
    agents = [Agent(s.id, langs[s.id], loads.get(s.id, 0), s.has_role(Role.COLLECTOR))
              for s in staff]
    return choose_agent(agents, language, exclude_collectors=queue.managers_only)


def route(category: str, language: str, amount: int | None,
          currency: str | None = None) -> tuple[DisputeQueue, int | None]:
    """(queue, agent id or None) for a new dispute, by the rules in priority order. `amount`
    is in minor units of `currency`; a rule with amount bounds matches only its currency."""
    queues = ensure_defaults()
    by_id = {q.id: q for q in queues.values()}
    rules = [Rule(r.id, r.priority, r.category, r.language, r.min_amount, r.max_amount,
                  r.queue_id, r.currency) for r in all_rules()]
    matched = match_rule(rules, category, language, amount, currency)
    queue = by_id[matched.queue] if matched else queues.get(data.FALLBACK_QUEUE[category])
    if queue is None or not conduct_eligible(queue, category=category):
        # whatever the rules say, a complaint about conduct lands where managers look
        fits = [q for q in queues.values() if conduct_eligible(q, category=category)]
        queue = fits[0] if fits else queues[data.FALLBACK_QUEUE[category]]
    return queue, pick_agent(queue, language)


# --- editing (collections_manager, admin) --------------------------------------------------

def save_rule(rule: DisputeRoutingRule | None, *, priority, category, language, min_amount,
              max_amount, queue_id, currency=None) -> DisputeRoutingRule:
    """Create or change a routing rule; the change is audited with before and after. Amount
    bounds are minor units of `currency`, which they require (the schema refuses bounds
    without one)."""
    if (min_amount is not None or max_amount is not None) and not currency:
        raise ValueError("bounds_need_currency")
    before = _rule_dict(rule) if rule else None
    if rule is None:
        rule = DisputeRoutingRule()
        db.session.add(rule)
    rule.priority, rule.category, rule.language = priority, category, language
    rule.min_amount, rule.max_amount, rule.queue_id = min_amount, max_amount, queue_id
    rule.currency = currency or None
    db.session.flush()
    record("dispute.rule_saved", subject=rule, before=before, after=_rule_dict(rule))
    return rule


def delete_rule(rule: DisputeRoutingRule) -> None:
    """Remove a rule (audited); disputes already routed keep their queue."""
    record("dispute.rule_deleted", subject=rule, before=_rule_dict(rule))
    db.session.delete(rule)
    db.session.flush()


def _rule_dict(rule: DisputeRoutingRule) -> dict:
    return {"priority": rule.priority, "category": rule.category, "language": rule.language,
            "min_amount": rule.min_amount, "max_amount": rule.max_amount,
            "currency": rule.currency, "queue_id": rule.queue_id}


def set_membership(queue: DisputeQueue, staff: StaffUser, member: bool) -> None:
    """Add or remove a staff member from a queue (audited)."""
    existing = db.session.get(DisputeQueueMember, (queue.id, staff.id))
    if member and existing is None:
        if not can_work(staff, queue):
            raise ValueError("not_eligible")
        queue.members.append(DisputeQueueMember(queue_id=queue.id, staff_id=staff.id))
    elif not member and existing is not None:
        queue.members.remove(existing)
    else:
        return
    db.session.flush()
    record("dispute.queue_member_added" if member else "dispute.queue_member_removed",
           subject=queue, after={"staff_id": staff.id})


def set_languages(staff: StaffUser, languages) -> None:
    """Replace the languages a staff member answers in (audited)."""
    rows = list(db.session.scalars(select(StaffLanguage)
                                   .where(StaffLanguage.staff_id == staff.id)))
    before = sorted(r.language for r in rows)
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    for language in sorted(set(languages)):
        db.session.add(StaffLanguage(staff_id=staff.id, language=language))
    db.session.flush()
    record("dispute.staff_languages_set", subject=staff, before={"languages": before},
           after={"languages": sorted(set(languages))})
