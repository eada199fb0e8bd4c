"""A breathing space or a vulnerability flag on a cardholder: sensitive personal data, read
and written only through portal.care.services (every read of the details is audited)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class CareRecord(db.Model):
    """In force from `starts_on` through `ends_on` (None: until ended), and no longer from
    `ended_on` when staff end it early. Dates are the cardholder's calendar dates."""

    __tablename__ = "care_record"
    __table_args__ = (
        CheckConstraint("kind IN ('breathing_space', 'vulnerability')", name="kind_known"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("ended_on IS NULL OR ended_on >= starts_on", name="ended_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cardholder_id: Mapped[int] = mapped_column(ForeignKey("cardholder.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    def in_force(self, day: date) -> bool:
        return (self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)
                and (self.ended_on is None or day < self.ended_on))

    @property
    def last_day(self) -> date | None:
        """The last day in force, when it has one."""
        ends = [d for d in (self.ends_on, self.ended_on and date.fromordinal(
            self.ended_on.toordinal() - 1)) if d is not None]
        return min(ends) if ends else None
