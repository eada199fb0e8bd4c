"""The audit log: append-only, in keyed hash chains (one per stream), with a head per stream
and signed global anchors, so an edit, a deletion or a fork shows (docs/audit.md)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        # Two events can never take the same place in a stream: a fork is refused.
        UniqueConstraint("stream", "seq"),
    )

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
    # The chain this event belongs to ("account:42", "staff_user", "system"; "legacy" for the
    # events written before keyed streams) and its place in it (1, 2, ...; None for legacy).
    stream: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    # Which AUDIT_KEYS key made `hash` (HMAC-SHA256); "legacy-sha256" for unkeyed old events.
    key_id: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditStreamHead(db.Model):
    """A stream's newest link and length, rewritten by every append to the stream in its own
    transaction (its row is the stream's lock). The chain alone cannot show that its newest
    events were deleted (what is left still links up); the head can, and the anchors sign the
    heads."""

    __tablename__ = "audit_stream_head"
    __table_args__ = (CheckConstraint("event_count >= 0", name="count_not_negative"),)

    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_count: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int | None]  # None while the stream is empty
    last_hash: Mapped[str] = mapped_column(String(64))  # GENESIS while the stream is empty


class AuditAnchor(db.Model):
    """A signed global head: an HMAC over every stream's head as of `last_event_id`, written
    here and to a file outside the database (`flask audit anchor`, at least daily)."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_event_id: Mapped[int] = mapped_column(BigInteger)  # 0 when the log was empty
    stream_count: Mapped[int] = mapped_column(BigInteger)
    event_count: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(64))
