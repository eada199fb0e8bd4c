"""Disputes, their messages and attachments, queues with members, routing rules."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index,
                        Integer, String, Text, event)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import str_enum
from portal.disputes.rules import ACTIVE, DisputeStatus
from portal.extensions import db
from portal.timeutil import utcnow


class DisputeQueue(db.Model):
    __tablename__ = "dispute_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # Conduct complaints: only managers and customer service, never a collector.
    managers_only: Mapped[bool] = mapped_column(Boolean, default=False)

    members: Mapped[list[DisputeQueueMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")


class DisputeQueueMember(db.Model):
    __tablename__ = "dispute_queue_member"

    queue_id: Mapped[int] = mapped_column(ForeignKey("dispute_queue.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)


class StaffLanguage(db.Model):
    """The languages (portal locale codes) a staff member can answer in."""

    __tablename__ = "staff_language"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)


class DisputeRoutingRule(db.Model):
    __tablename__ = "dispute_routing_rule"
    __table_args__ = (
        CheckConstraint("min_amount IS NULL OR min_amount >= 0", name="min_not_negative"),
        CheckConstraint("min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount",
                        name="min_not_above_max"),
        # amounts are minor units of one currency: a bound without its currency means nothing
        CheckConstraint("currency IS NOT NULL OR (min_amount IS NULL AND max_amount IS NULL)",
                        name="bounds_have_currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    category: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    min_amount: Mapped[int | None] = mapped_column(BigInteger)
    max_amount: Mapped[int | None] = mapped_column(BigInteger)
    # ISO 4217 code of the bounds; the rule then matches only disputes in this currency.
    currency: Mapped[str | None] = mapped_column(String(3))
    queue_id: Mapped[int] = mapped_column(ForeignKey("dispute_queue.id"))

    queue: Mapped[DisputeQueue] = relationship(lazy="joined")


class Dispute(db.Model):
    __tablename__ = "dispute"
    __table_args__ = (
        CheckConstraint("contested_amount IS NULL OR contested_amount > 0",
                        name="contested_positive"),
        CheckConstraint("resolution_amount IS NULL OR resolution_amount >= 0",
                        name="resolution_not_negative"),
        CheckConstraint("resolution_amount IS NULL OR contested_amount IS NULL "
                        "OR resolution_amount <= contested_amount",
                        name="resolution_within_contested"),
        # The staff queue's order (see `work_order`): its first page is an index scan.
        Index("ix_dispute_work_order", "sla_paused", "sla_due_at", "id"),
        Index("ix_dispute_closed_order", "closed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    cardholder_id: Mapped[int] = mapped_column(ForeignKey("cardholder.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[DisputeStatus] = mapped_column(
        str_enum(DisputeStatus, "dispute_status"), default=DisputeStatus.OPEN, index=True)
    contested_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    queue_id: Mapped[int] = mapped_column(ForeignKey("dispute_queue.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    escalated_to: Mapped[str | None] = mapped_column(String(16))  # legal | manager
    # A resolution waiting for a manager: the outcome and amount the agent proposed.
    proposed_outcome: Mapped[str | None] = mapped_column(String(16))
    proposed_amount: Mapped[int | None] = mapped_column(BigInteger)
    resolution_amount: Mapped[int | None] = mapped_column(BigInteger)
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    acknowledge_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    # A cache of the work order, rewritten on every insert and update (`work_order`):
    # NULL once closed; else whether the clock is paused and the deadline that runs now.
    sla_paused: Mapped[bool | None] = mapped_column(Boolean)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    account = relationship("Account")
    cardholder = relationship("Cardholder")
    queue: Mapped[DisputeQueue] = relationship(lazy="joined")
    assignee = relationship("StaffUser")
    messages: Mapped[list[DisputeMessage]] = relationship(
        order_by="DisputeMessage.id", back_populates="dispute")
    attachments: Mapped[list[DisputeAttachment]] = relationship(order_by="DisputeAttachment.id")
    entries: Mapped[list[DisputeEntry]] = relationship(order_by="DisputeEntry.ledger_entry_id")
    pauses: Mapped[list[DisputeSlaPause]] = relationship(order_by="DisputeSlaPause.id")


class DisputeSlaPause(db.Model):
    """A stretch of time the dispute waited for the cardholder (status awaiting_customer): the
    SLA clock stood still, and the open office time in it was added to the deadlines."""

    __tablename__ = "dispute_sla_pause"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint("business_seconds IS NULL OR business_seconds >= 0",
                        name="business_seconds_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # open office time in the pause, added to the deadlines when it ended
    business_seconds: Mapped[int | None] = mapped_column(Integer)


class DisputeEntry(db.Model):
    """A ledger entry the cardholder contests."""

    __tablename__ = "dispute_entry"

    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), primary_key=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), primary_key=True)

    ledger_entry = relationship("LedgerEntry", lazy="joined")


class DisputeMessage(db.Model):
    __tablename__ = "dispute_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    author_type: Mapped[str] = mapped_column(String(16))  # cardholder | staff | system
    author_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # False: an internal note, never shown to the cardholder.
    customer_visible: Mapped[bool] = mapped_column(Boolean)
    # A step legal recorded (data.LEGAL_STEPS), always an internal note.
    legal_step: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dispute: Mapped[Dispute] = relationship(back_populates="messages")


class DisputeAttachment(db.Model):
    __tablename__ = "dispute_attachment"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(16))  # cardholder | staff
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def work_order(dispute: Dispute) -> tuple[bool | None, datetime | None]:
    """(paused, deadline) as the staff queue sorts open disputes: running clocks first, by
    the deadline that runs now (acknowledge until acknowledged, then resolve); (None, None)
    for a closed dispute."""
    if dispute.status not in ACTIVE:
        return None, None
    due = dispute.acknowledge_by if dispute.acknowledged_at is None else dispute.resolve_by
    return dispute.status == DisputeStatus.AWAITING_CUSTOMER, due


@event.listens_for(Dispute, "before_insert")
@event.listens_for(Dispute, "before_update")
def _store_work_order(_mapper, _connection, dispute: Dispute) -> None:
    dispute.sla_paused, dispute.sla_due_at = work_order(dispute)
