"""Account assignments, the contact log and promises to pay (a collector's or the cardholder's).

All three are collection records (kept at least two years, COMPLIANCE.md `cn`): rows are never
deleted. A contact and a promise are never edited either. An assignment is closed once (its
`ended_at`/`ended_by_id` set when the account goes to someone else or to no one) and otherwise
never changes, so the history of who held an account is the table itself.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, event, inspect, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account, str_enum
from portal.extensions import db
from portal.staff.models import StaffUser
from portal.timeutil import utcnow


class ContactChannel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    IN_PERSON = "in_person"


class ContactDirection(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class ContactOutcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    PROMISED = "promised_to_pay"
    CALLBACK = "callback_requested"
    REFUSED = "refused_to_pay"
    DISPUTED = "disputes_debt"
    WRONG_CONTACT = "wrong_contact"


class RecordImmutable(Exception):
    """Raised when code tries to edit or delete a collection record."""


class AccountAssignment(db.Model):
    """Who works an account from `assigned_at` until `ended_at` (open: still theirs)."""

    __tablename__ = "account_assignment"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= assigned_at", name="ends_after_start"),
        # One current collector per account, refused by the database itself.
        Index("uq_account_assignment_current", "account_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    account: Mapped[Account] = relationship()
    collector: Mapped[StaffUser] = relationship(foreign_keys=[collector_id])


class ContactLog(db.Model):
    """One contact with the cardholder (or an attempt), as the collector logged it."""

    __tablename__ = "contact_log"
    __table_args__ = (CheckConstraint("length(note) <= 2000", name="note_bounded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    channel: Mapped[ContactChannel] = mapped_column(str_enum(ContactChannel, "contact_channel"))
    direction: Mapped[ContactDirection] = mapped_column(
        str_enum(ContactDirection, "contact_direction"))
    outcome: Mapped[ContactOutcome] = mapped_column(str_enum(ContactOutcome, "contact_outcome"))
    note: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    staff: Mapped[StaffUser] = relationship()
    promise: Mapped[PromiseToPay | None] = relationship(back_populates="contact")


class PromiseSource(enum.StrEnum):
    COLLECTOR = "collector"  # logged by staff with a contact
    CARDHOLDER = "cardholder"  # made by the cardholder online


class PromiseToPay(db.Model):
    """The cardholder's promise to pay `amount` by `promised_on`: made during a contact and
    logged by a collector (`contact_id`, `staff_id`), or made by the cardholder online
    (`cardholder_id`, `ip_address`); the database refuses any other mix.

    Whether it was kept is computed from the ledger (portal.collections.services.promise
    status), never stored: payments posted from `made_on` to `last_day` (the promised date
    plus the grace days the policy gave when it was made) inclusive that add up to `amount`
    keep it; once `last_day` has passed without that, it is broken. While it is open,
    escalation is paused (portal.collections.promises.promise_pause).
    """

    __tablename__ = "promise_to_pay"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("promised_on >= made_on", name="not_before_made"),
        CheckConstraint("last_day >= promised_on", name="last_day_after_date"),
        CheckConstraint("grace_days >= 0", name="grace_not_negative"),
        CheckConstraint(
            "(made_by = 'collector' AND contact_id IS NOT NULL AND staff_id IS NOT NULL"
            " AND cardholder_id IS NULL AND ip_address IS NULL)"
            " OR (made_by = 'cardholder' AND contact_id IS NULL AND staff_id IS NULL"
            " AND cardholder_id IS NOT NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    made_by: Mapped[PromiseSource] = mapped_column(
        str_enum(PromiseSource, "promise_source"), default=PromiseSource.COLLECTOR,
        server_default=PromiseSource.COLLECTOR.value)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_log.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    cardholder_id: Mapped[int | None] = mapped_column(ForeignKey("cardholder.id"))
    ip_address: Mapped[str | None] = mapped_column(String(45))  # online: where it came from
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    made_on: Mapped[date] = mapped_column(Date, index=True)  # the cardholder's calendar date
    promised_on: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_day: Mapped[date] = mapped_column(Date, index=True)  # promised_on + grace_days
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    contact: Mapped[ContactLog | None] = relationship(back_populates="promise")
    staff: Mapped[StaffUser | None] = relationship()


class SentReminder(db.Model):
    """A reminder queued about one plan instalment or one promise to pay (portal.collections.
    reminders). The unique key sends each kind once per instalment or promise, however often
    and however many workers run the reminders job; `message_id` is the outbox message (None
    when the cardholder has neither email nor phone)."""

    __tablename__ = "sent_reminder"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", name="uq_sent_reminder_kind_subject"),
        CheckConstraint("kind IN ('instalment_due_soon', 'instalment_missed', 'promise_due',"
                        " 'promise_broken')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column()  # plan_instalment.id or promise_to_pay.id
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@event.listens_for(AccountAssignment, "before_update")
def _only_close_once(mapper, connection, target):
    state = inspect(target)
    for attr in mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if attr.key not in ("ended_at", "ended_by_id") or any(
                v is not None for v in history.deleted):
            raise RecordImmutable(f"assignment {target.id} can only be closed, once")


@event.listens_for(PromiseToPay, "before_insert")
def _last_day_from_grace(mapper, connection, target):
    # Rows built without it (older code, tests) get promised_on + grace_days.
    if target.last_day is None and target.promised_on is not None:
        target.last_day = target.promised_on + timedelta(days=target.grace_days or 0)


@event.listens_for(AccountAssignment, "before_delete")
@event.listens_for(ContactLog, "before_delete")
@event.listens_for(PromiseToPay, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RecordImmutable(f"{mapper.local_table.name} {target.id} is a collection record")


@event.listens_for(ContactLog, "before_update")
@event.listens_for(PromiseToPay, "before_update")
def _refuse_update(mapper, connection, target):
    raise RecordImmutable(f"{mapper.local_table.name} {target.id} cannot be edited")
