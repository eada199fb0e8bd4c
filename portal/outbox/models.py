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
