"""What the nightly run recorded: consequences, notices, stage moves, and how far it got."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, \
    String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class ConsequenceEvent(db.Model):
    """A consequence that happened. Recorded once per account, kind and delinquency cycle.

    `cycle` is the oldest unpaid due date the consequence belongs to: a new missed payment
    after the account was brought up to date starts a new cycle.

    `waived`: a late fee that was not charged and never will be in this cycle (its day fell
    in a breathing space whose profile freezes fees); `amount` is then the fee not charged.
    """

    __tablename__ = "consequence_event"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "cycle", name="uq_consequence_event_once"),
        CheckConstraint("days_late >= 0", name="days_late_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    cycle: Mapped[date] = mapped_column(Date)
    occurred_on: Mapped[date] = mapped_column(Date)
    days_late: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units, e.g. the fee posted
    currency: Mapped[str | None] = mapped_column(String(3))
    policy_profile: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    waived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Notice(db.Model):
    """A letter to the cardholder, as data; pages render it (HTML and PDF) from these fields."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "issued_on", name="uq_notice_once_a_day"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "formal_notice" | "reminder"
    issued_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)  # overdue amount on the day of issue
    currency: Mapped[str] = mapped_column(String(3))
    pay_by: Mapped[date] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    days_late: Mapped[int] = mapped_column(Integer, default=0)
    policy_profile: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[int] = mapped_column(Integer)
    consequence_event_id: Mapped[int | None] = mapped_column(ForeignKey("consequence_event.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StageChange(db.Model):
    """The account moved from one delinquency stage to another on a day."""

    __tablename__ = "stage_change"
    __table_args__ = (UniqueConstraint("account_id", "changed_on", name="uq_stage_change_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    changed_on: Mapped[date] = mapped_column(Date)
    from_stage: Mapped[str] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    days_late: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[int] = mapped_column(Integer)


class AccountNightlyState(db.Model):
    """How far the nightly run got for an account: the idempotency key of the job."""

    __tablename__ = "account_nightly_state"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    last_processed_day: Mapped[date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(32))
    # Penalty interest accrued but not yet posted, in billionths of a minor unit
    # (portal.domain.interest.CARRY_SCALE): the next run starts from it.
    interest_carry: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
