"""The audit log: append-only and hash-chained, so an edit or a deletion shows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # cardholder | staff | system | anonymous
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(db.Model):
    """The chain's newest link and length, in one row that every append rewrites in its own
    transaction. The chain alone cannot show that its newest events were deleted (what is
    left still links up); the head can."""

    __tablename__ = "audit_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("event_count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_count: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int | None]  # None while the chain is empty
    last_hash: Mapped[str] = mapped_column(String(64))  # GENESIS while the chain is empty
