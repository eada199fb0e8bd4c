"""Legal steps recorded on an account: an append-only list, like the ledger.

A mistaken entry is never edited or deleted: a new row of kind "correction" points at it
(`corrects_id`, at most one correction per entry) and says why; the corrected entry then no
longer counts (workspace, cardholder timeline), but stays on record.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, String, Text, \
    event
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import str_enum
from portal.extensions import db
from portal.timeutil import utcnow


class LegalActionKind(enum.StrEnum):
    FORMAL_NOTICE_SENT = "formal_notice_sent"
    CLAIM_FILED = "claim_filed"
    HEARING_SCHEDULED = "hearing_scheduled"
    JUDGMENT_ENTERED = "judgment_entered"
    JUDGMENT_SATISFIED = "judgment_satisfied"
    REFERRAL_WITHDRAWN = "referral_withdrawn"
    CORRECTION = "correction"


# The steps legal records (everything but a correction), in the order they usually happen.
STEP_KINDS = tuple(k for k in LegalActionKind if k is not LegalActionKind.CORRECTION)
# Steps that may carry an amount (what was claimed, awarded or paid).
AMOUNT_KINDS = (LegalActionKind.CLAIM_FILED, LegalActionKind.JUDGMENT_ENTERED,
                LegalActionKind.JUDGMENT_SATISFIED)


class LegalAction(db.Model):
    __tablename__ = "legal_action"
    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("(kind = 'correction' AND corrects_id IS NOT NULL) OR "
                        "(kind <> 'correction' AND corrects_id IS NULL)",
                        name="correction_points_at_an_entry"),
        CheckConstraint("kind <> 'hearing_scheduled' OR hearing_on IS NOT NULL",
                        name="hearing_has_a_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[LegalActionKind] = mapped_column(str_enum(LegalActionKind, "legal_action_kind"))
    occurred_on: Mapped[date] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)  # hearing_scheduled: the hearing day
    court_reference: Mapped[str | None] = mapped_column(String(200))  # court, case number
    amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)  # staff only, never shown to the cardholder
    # Unique: an entry is corrected at most once (two clicks cannot both correct it).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("legal_action.id"), unique=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LegalRecordImmutable(Exception):
    """Raised when code tries to change or remove a recorded legal action."""


@event.listens_for(LegalAction, "before_update")
def _refuse_update(mapper, connection, target):
    raise LegalRecordImmutable(f"legal action {target.id} cannot be edited; record a correction")


@event.listens_for(LegalAction, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise LegalRecordImmutable(f"legal action {target.id} cannot be deleted; record a correction")
