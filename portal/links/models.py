"""One-tap links in messages, and the outcomes (payment, plan, promise) they led to."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow

# What a link is for: each opens one page, for one account.
PAY_INSTALMENT, PAY, PLAN_OFFERS = "pay_instalment", "pay", "plan_offers"
PURPOSES = (PAY_INSTALMENT, PAY, PLAN_OFFERS)
# What a message can lead to.
OUTCOME_KINDS = ("payment", "plan", "promise")


class OneTapLink(db.Model):
    """A single-purpose link sent in one message. Only the SHA-256 of its token is kept, so
    the table gives nobody a working link. It works until `expires_at`, once (`used_at`, set
    by a right answer to the light check), and not after it is revoked (`revoked_at`: a newer
    link for the same account and purpose, an operator, or a message that never went), voided
    (`voided_at`: too many wrong answers) or the cardholder's sessions were ended (password
    set or reset, sign-out: `session_version` no longer matches)."""
    __tablename__ = "one_tap_link"
    __table_args__ = (
        CheckConstraint("purpose IN ('pay_instalment', 'pay', 'plan_offers')",
                        name="purpose_known"),
        CheckConstraint("failed_checks >= 0", name="failed_checks_not_negative"),
        Index("ix_one_tap_link_account_purpose", "account_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    cardholder_id: Mapped[int] = mapped_column(ForeignKey("cardholder.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    # What the message said, shown after the check: the amount and the day it was about.
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    due_on: Mapped[date | None] = mapped_column(Date)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageOutcome(db.Model):
    """A payment, plan or promise made in a session that followed a one-tap link: the message
    that led to it. One row per outcome."""
    __tablename__ = "message_outcome"
    __table_args__ = (
        CheckConstraint("kind IN ('payment', 'plan', 'promise')", name="kind_known"),
        UniqueConstraint("kind", "object_id"),  # one row per outcome
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("one_tap_link.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
