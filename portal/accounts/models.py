"""Cardholders, their card accounts and the append-only ledger."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    BigInteger,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow


def str_enum(enum_cls, name):
    """Store enum *values* as short strings; a CHECK keeps the database honest."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    CHARGED_OFF = "charged_off"
    CLOSED = "closed"


class EntryKind(enum.StrEnum):
    STATEMENT_BALANCE = "statement_balance"
    INTEREST = "interest"
    FEE = "fee"
    PAYMENT = "payment"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"
    WAIVER = "waiver"


class Component(enum.StrEnum):
    PRINCIPAL = "principal"
    INTEREST = "interest"
    FEE = "fee"


class Cardholder(db.Model):
    __tablename__ = "cardholder"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on sign-out, password reset and enrolment: sessions carrying an older value end.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    accounts: Mapped[list[Account]] = relationship(
        back_populates="cardholder", order_by="Account.id"
    )

    @property
    def is_enrolled(self) -> bool:
        return self.password_hash is not None

    # Flask-Login: ids carry the kind so a staff id never loads a cardholder.
    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False

    def get_id(self) -> str:
        return f"c:{self.id}"


class Account(db.Model):
    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("credit_limit >= 0", name="credit_limit_not_negative"),
        CheckConstraint("length(card_last4) = 4", name="card_last4_four_digits"),
        CheckConstraint("minimum_due >= 0", name="minimum_due_not_negative"),
        # the collections lists: most days late first (worklist pages, accounts to assign)
        Index("ix_account_oldest_unpaid_id", "oldest_unpaid_due_date", "id"),
        # the worklist by key, accounts with nothing unpaid last (pagination.NullsBeyond)
        Index("ix_account_oldest_unpaid_last",
              text("coalesce(oldest_unpaid_due_date, '9999-12-31')"), "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(32), unique=True)
    card_last4: Mapped[str] = mapped_column(String(4))
    cardholder_id: Mapped[int] = mapped_column(ForeignKey("cardholder.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit: Mapped[int] = mapped_column(BigInteger)
    policy_profile: Mapped[str] = mapped_column(String(16))
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus, "account_status"), default=AccountStatus.OPEN
    )
    # Statement facts from the issuer's feed (what was due and since when), not balances:
    # balances are always summed from the ledger.
    minimum_due: Mapped[int] = mapped_column(BigInteger, default=0)
    oldest_unpaid_due_date: Mapped[date | None] = mapped_column(Date)
    feed_as_of: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    cardholder: Mapped[Cardholder] = relationship(back_populates="accounts")

    @property
    def masked_card(self) -> str:
        return f"•••• {self.card_last4}"


# Entry kinds that are few per account (a fee per cycle, a payment now and then), unlike daily
# interest: reads that must look at an account's whole history for them (fees since the
# issuer's statement, payments it has not applied) use a partial index on these kinds.
SPARSE_KINDS_SQL = "kind IN ('fee', 'payment', 'reversal')"


class LedgerEntry(db.Model):
    """One money movement. Never updated or deleted: corrections are reversals."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # The source reference is the posting's idempotency key within an account.
        UniqueConstraint("account_id", "source_ref", name="uq_ledger_entry_source"),
        # An account's entries since a closing snapshot (portal.balances.snapshots).
        Index("ix_ledger_entry_account_day", "account_id", "effective_date"),
        Index("ix_ledger_entry_account_sparse", "account_id", "effective_date",
              postgresql_where=text(SPARSE_KINDS_SQL), sqlite_where=text(SPARSE_KINDS_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: it leads ix_ledger_entry_account_day and uq_ledger_entry_source.
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind, "entry_kind"))
    component: Mapped[Component] = mapped_column(str_enum(Component, "component"))
    # Signed minor units: positive increases what the cardholder owes.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    source_ref: Mapped[str] = mapped_column(String(128))
    reversal_of_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    # Exports of the journal with the issuer select by it (docs/money.md).
    # Looked up at each insert (not bound once) so a test clock can stand in for utcnow.
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                default=lambda: utcnow(), index=True)

    account: Mapped[Account] = relationship()


class LedgerImmutable(Exception):
    """Raised when code tries to change or remove a ledger entry."""


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise LedgerImmutable(f"ledger entry {target.id} cannot be edited; post a reversal")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise LedgerImmutable(f"ledger entry {target.id} cannot be deleted; post a reversal")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state):
    # `update(LedgerEntry)` / `delete(LedgerEntry)` statements skip the two hooks above.
    if (state.is_update or state.is_delete) and any(
            mapper.class_ is LedgerEntry for mapper in state.all_mappers):
        raise LedgerImmutable("ledger entries cannot be edited or deleted; post a reversal")
