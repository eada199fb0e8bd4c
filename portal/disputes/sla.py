"""The SLA clock of a stored dispute: it stands still while the dispute waits for the
cardholder (status awaiting_customer). The arithmetic is in `rules`; this module stores
when a pause began and ended and moves the deadlines."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.disputes.models import DisputeSlaPause
from portal.disputes.rules import (DisputeStatus, add_business_time, business_time_between,
                                   calendar_for, extend_for_pause)
from portal.extensions import db
from portal.timeutil import as_aware


def utc(moment: datetime) -> datetime:
    """Deadlines are stored in UTC: SQLite keeps only the wall-clock time of what it is given,
    so a Shanghai 18:00 would read back as 18:00 UTC."""
    return moment.astimezone(timezone.utc)


def is_paused(dispute) -> bool:
    return dispute.status == DisputeStatus.AWAITING_CUSTOMER


def open_pause(dispute) -> DisputeSlaPause | None:
    return db.session.scalar(select(DisputeSlaPause).where(
        DisputeSlaPause.dispute_id == dispute.id, DisputeSlaPause.ended_at.is_(None))
        .order_by(DisputeSlaPause.id.desc()).limit(1))


def open_pauses(disputes) -> dict[int, DisputeSlaPause]:
    """The open pause of each dispute waiting for the cardholder, in one query (a list asks
    this once, not once per dispute)."""
    ids = [d.id for d in disputes if is_paused(d)]
    if not ids:
        return {}
    pauses = db.session.scalars(select(DisputeSlaPause).where(
        DisputeSlaPause.dispute_id.in_(ids), DisputeSlaPause.ended_at.is_(None))
        .order_by(DisputeSlaPause.id))
    return {pause.dispute_id: pause for pause in pauses}  # by id: the newest is kept


def _calendar(dispute):
    return calendar_for(dispute.account.policy_profile)


def on_status_change(dispute, before: DisputeStatus, target: DisputeStatus,
                     now: datetime) -> dict:
    """Start a pause when the dispute begins waiting for the cardholder; end it when it stops
    waiting (answer, escalation, decision, withdrawal), moving the acknowledge deadline (if
    still running) and the resolve deadline later by the open office time waited. Returns the
    details to put in the status change's audit event."""
    waiting = target == DisputeStatus.AWAITING_CUSTOMER
    was_waiting = before == DisputeStatus.AWAITING_CUSTOMER
    if waiting and not was_waiting:
        db.session.add(DisputeSlaPause(dispute_id=dispute.id, started_at=now))
        return {"sla_paused_at": now.isoformat()}
    if was_waiting and not waiting:
        return _resume(dispute, now)
    return {}


def _resume(dispute, now: datetime) -> dict:
    pause = open_pause(dispute)
    if pause is None:  # waiting since before pauses were recorded: nothing to add back
        return {}
    cal = _calendar(dispute)
    waited = business_time_between(cal, as_aware(pause.started_at), now)
    pause.ended_at, pause.business_seconds = now, int(waited.total_seconds())
    before = {"resolve_by": as_aware(dispute.resolve_by).isoformat()}
    dispute.resolve_by = utc(add_business_time(cal, as_aware(dispute.resolve_by), waited))
    if dispute.acknowledged_at is None:
        dispute.acknowledge_by = utc(add_business_time(cal, as_aware(dispute.acknowledge_by),
                                                       waited))
    return {"sla_resumed_at": now.isoformat(), "sla_paused_seconds": pause.business_seconds,
            "resolve_by_before": before["resolve_by"],
            "resolve_by": as_aware(dispute.resolve_by).isoformat()}


def expected_answer(dispute, now: datetime, pauses: dict | None = None) -> datetime:
    """The date the cardholder can expect an answer: the resolve deadline, and while we wait
    for them, that deadline moved by the office time waited so far (it keeps moving until
    they answer). `pauses`: `open_pauses` of a list, else the pause is looked up."""
    due = as_aware(dispute.resolve_by)
    if not is_paused(dispute):
        return due
    pause = open_pause(dispute) if pauses is None else pauses.get(dispute.id)
    if pause is None:
        return due
    return extend_for_pause(_calendar(dispute), due, as_aware(pause.started_at), now)


def paused_for(dispute, now: datetime) -> timedelta:
    """Open office time the dispute has been waiting for the cardholder (zero when not)."""
    pause = open_pause(dispute) if is_paused(dispute) else None
    if pause is None:
        return timedelta()
    return business_time_between(_calendar(dispute), as_aware(pause.started_at), now)
