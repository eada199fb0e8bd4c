"""A cardholder's choice, per channel, about collection and service messages."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import str_enum
from portal.extensions import db
from portal.outbox.models import Channel
from portal.timeutil import utcnow


class ContactPreference(db.Model):
    """No row means the channel is on. `source` says how the choice was made: "page" (the
    signed-in preferences page), "link" (the opt-out link in an email), "sms_stop" (a STOP
    reply recorded by the operator or the inbound hook)."""

    __tablename__ = "contact_preference"
    __table_args__ = (
        UniqueConstraint("cardholder_id", "channel", name="uq_contact_preference_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cardholder_id: Mapped[int] = mapped_column(ForeignKey("cardholder.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "contact_channel"))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
