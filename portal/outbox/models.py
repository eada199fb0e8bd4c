"""Messages waiting to be sent (or sent): email and SMS alike."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import str_enum
from portal.extensions import db
from portal.timeutil import utcnow


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageKind(enum.StrEnum):
    """How contact rules apply (see portal/contact/services.py):
    transactional - the cardholder just asked for it (codes, receipts): sent at once;
    service - the issuer answers something the cardholder started (dispute updates, plan
      review replies): quiet hours and opt-outs apply;
    collection - the issuer initiates it about money owed: quiet hours, opt-outs, frequency
      caps and collection holds apply."""
    TRANSACTIONAL = "transactional"
    SERVICE = "service"
    COLLECTION = "collection"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "outbox_channel"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    cardholder_id: Mapped[int | None] = mapped_column(ForeignKey("cardholder.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # otp, notice, plan, receipt, dispute ...
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[MessageKind] = mapped_column(
        str_enum(MessageKind, "outbox_kind"), default=MessageKind.TRANSACTIONAL,
        server_default=MessageKind.TRANSACTIONAL.value)
    # Not delivered before this moment (quiet hours); None means at once.
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    # A message the contact rules stopped (opted_out, cap, hold) is never delivered.
    suppressed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suppressed_reason: Mapped[str | None] = mapped_column(String(32))
    # Delivery gave up (a permanent refusal, or OUTBOX_MAX_ATTEMPTS failures): never retried;
    # last_error says why, and admin sees it at /staff/jobs.
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
