"""Plans, their instalments, hardship statements and proof documents."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
    Text, UniqueConstraint, JSON, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account, str_enum
from portal.domain.statemachine import StateMachine
from portal.extensions import db
from portal.timeutil import utcnow


class PlanStatus(enum.StrEnum):
    PROPOSED = "proposed"
    IN_REVIEW = "in_review"
    COUNTERED = "countered"
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


S = PlanStatus
PLAN_MACHINE = StateMachine("plan", {
    S.PROPOSED: {S.IN_REVIEW, S.ACTIVE, S.REJECTED, S.CANCELLED},
    S.IN_REVIEW: {S.ACTIVE, S.COUNTERED, S.REJECTED, S.CANCELLED},
    S.COUNTERED: {S.ACTIVE, S.CANCELLED},
    S.ACTIVE: {S.COMPLETED, S.BROKEN, S.CANCELLED},
    # A refund or chargeback after the last payment reopens the plan (see reverse_payment).
    S.COMPLETED: {S.ACTIVE},
})
OPEN_STATUSES = (S.PROPOSED, S.IN_REVIEW, S.COUNTERED)
# Statuses that count towards "plans per 12 months": a plan that was agreed.
AGREED_STATUSES = (S.ACTIVE, S.COMPLETED, S.BROKEN, S.CANCELLED)
# The staff list of agreed plans (newest first) reads a partial index with this predicate;
# the query writes it with the same literals (`agreed_listed`) so the planner can use it.
AGREED_LISTED_SQL = ("status IN ('active', 'completed', 'broken', 'cancelled') "
                     "AND started_on IS NOT NULL")


class InstalmentStatus(enum.StrEnum):
    DUE = "due"
    PAID = "paid"
    MISSED = "missed"


INSTALMENT_MACHINE = StateMachine("instalment", {
    InstalmentStatus.DUE: {InstalmentStatus.PAID, InstalmentStatus.MISSED},
    # A missed instalment delayed to a later date (servicing) is due again.
    InstalmentStatus.MISSED: {InstalmentStatus.PAID, InstalmentStatus.DUE},
    InstalmentStatus.PAID: {InstalmentStatus.DUE, InstalmentStatus.MISSED},  # reversals
})


class Plan(db.Model):
    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint("total > 0", name="total_positive"),
        CheckConstraint("instalment_count >= 1", name="count_positive"),
        CheckConstraint("down_payment >= 0", name="down_payment_not_negative"),
        CheckConstraint("fees_waived >= 0 AND discount >= 0 AND interest_added >= 0",
                        name="concessions_not_negative"),
        CheckConstraint("kind IN ('instalment', 'settlement', 'deferral')", name="kind_known"),
        CheckConstraint("frequency IN ('weekly', 'fortnightly', 'monthly')",
                        name="frequency_known"),
        # The staff lists: agreed plans newest first by status, proposals oldest first (by
        # key, NULLs last: pagination.NullsLast).
        Index("ix_plan_status_id", "status", "id"),
        Index("ix_plan_status_accepted_order", "status", text("(accepted_at IS NULL)"),
              "accepted_at", "id"),
        # All agreed plans newest first: without it the list walks every proposal too.
        Index("ix_plan_agreed_id", "id", postgresql_where=text(AGREED_LISTED_SQL),
              sqlite_where=text(AGREED_LISTED_SQL)),
        # One active plan per account, refused by the database itself.
        Index("uq_plan_one_active_per_account", "account_id", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus, "plan_status"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # offer | proposal | hardship
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    instalment_count: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(16))
    first_date: Mapped[date] = mapped_column(Date)
    down_payment: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_at_start: Mapped[int] = mapped_column(BigInteger)
    fees_waived: Mapped[int] = mapped_column(BigInteger, default=0)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_percent: Mapped[str] = mapped_column(String(16), default="0")
    interest_mode: Mapped[str] = mapped_column(String(16), default="frozen")
    interest_rate_percent: Mapped[str | None] = mapped_column(String(16))
    interest_added: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    # The day the plan took the balance over: its annualised rate is counted from it
    # (portal.domain.cost). None for plans made before it was stored: their first due date.
    terms_start: Mapped[date | None] = mapped_column(Date)
    policy_profile: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(32))
    grace_days: Mapped[int] = mapped_column(Integer)
    required_role: Mapped[str | None] = mapped_column(String(32))
    review_reasons: Mapped[list | None] = mapped_column(JSON)
    proposed_terms: Mapped[dict | None] = mapped_column(JSON)  # what was asked, before a counter
    # Set when the terms were priced again on the day the plan would start (decisions.reprice):
    # the balance before and now and the movements between, so the cardholder sees why.
    repriced: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Consent: the exact terms shown, hashed, with who/when/where.
    terms_hash: Mapped[str | None] = mapped_column(String(64))
    terms_locale: Mapped[str | None] = mapped_column(String(16))
    # The agreement's text exactly as accepted (its sha256 is terms_hash): the PDF is printed
    # from it, so later wording changes never alter an agreement already made.
    terms_text: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_ip: Mapped[str | None] = mapped_column(String(64))
    accepted_user_agent: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    broken_on: Mapped[date | None] = mapped_column(Date, index=True)
    cancelled_on: Mapped[date | None] = mapped_column(Date)

    account: Mapped[Account] = relationship()
    instalments: Mapped[list[PlanInstalment]] = relationship(
        back_populates="plan", order_by="PlanInstalment.seq", cascade="all, delete-orphan")
    statement: Mapped[HardshipStatement | None] = relationship(back_populates="plan")

    @property
    def concession(self) -> int:
        return self.fees_waived + self.discount

    @property
    def paid_total(self) -> int:
        """What the cardholder paid under the plan (dispute credits not counted)."""
        return sum(i.paid_amount - (i.credited_amount or 0) for i in self.instalments)

    @property
    def credited_total(self) -> int:
        """What upheld dispute credits took off the plan."""
        return sum(i.credited_amount or 0 for i in self.instalments)

    @property
    def ended_owing_nothing(self) -> bool:
        """Completed with instalments left: the account owed nothing any more."""
        return self.status == PlanStatus.COMPLETED and any(
            i.status != InstalmentStatus.PAID for i in self.instalments)

    @property
    def paid_early(self) -> set[int]:
        """Ids of the instalments paid before their date, or paid into while an earlier one is
        still unpaid (an extra payment reaches the last instalments first). A dispute credit
        is not a payment: an instalment only a credit covered is not "paid early"."""
        unpaid = [i.seq for i in self.instalments if i.status != InstalmentStatus.PAID]
        first_unpaid = min(unpaid, default=None)
        return {i.id for i in self.instalments if i.paid_amount > (i.credited_amount or 0) and (
            (i.paid_on is not None and i.paid_on < i.due_date)
            or (first_unpaid is not None and i.seq > first_unpaid))}


class PlanInstalment(db.Model):
    __tablename__ = "plan_instalment"
    __table_args__ = (
        UniqueConstraint("plan_id", "seq", name="uq_plan_instalment_plan_seq"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid_amount >= 0 AND paid_amount <= amount", name="paid_within_amount"),
        CheckConstraint("credited_amount >= 0 AND credited_amount <= paid_amount",
                        name="credited_within_paid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # Of paid_amount, what an upheld dispute's credit took off (plans.services.apply_credit):
    # the cardholder did not pay it, and no refund or chargeback can take it back.
    credited_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[InstalmentStatus] = mapped_column(
        str_enum(InstalmentStatus, "instalment_status"), default=InstalmentStatus.DUE)
    paid_on: Mapped[date | None] = mapped_column(Date)
    missed_on: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="instalments")

    @property
    def still_due(self) -> int:
        return self.amount - self.paid_amount


class HardshipStatement(db.Model):
    """A monthly income-and-expenditure statement, with proof, for one account."""

    __tablename__ = "hardship_statement"
    __table_args__ = (
        CheckConstraint("income >= 0 AND housing >= 0 AND utilities >= 0 AND food >= 0 AND "
                        "transport >= 0 AND childcare >= 0 AND other_debts >= 0",
                        name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    income: Mapped[int] = mapped_column(BigInteger)
    housing: Mapped[int] = mapped_column(BigInteger, default=0)
    utilities: Mapped[int] = mapped_column(BigInteger, default=0)
    food: Mapped[int] = mapped_column(BigInteger, default=0)
    transport: Mapped[int] = mapped_column(BigInteger, default=0)
    childcare: Mapped[int] = mapped_column(BigInteger, default=0)
    other_debts: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    plan: Mapped[Plan | None] = relationship(back_populates="statement")
    documents: Mapped[list[ProofDocument]] = relationship(back_populates="statement",
                                                          order_by="ProofDocument.id")

    @property
    def expenses(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in
                ("housing", "utilities", "food", "transport", "childcare", "other_debts")}

    @property
    def disposable(self) -> int:
        return self.income - sum(self.expenses.values())


class ProofDocument(db.Model):
    """An uploaded payslip or bank statement; the file lives under UPLOAD_DIR, not static/."""

    __tablename__ = "proof_document"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("hardship_statement.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    statement: Mapped[HardshipStatement] = relationship(back_populates="documents")


class PlanRevision(db.Model):
    """One change to an agreed plan's schedule (a new payment date, a delay, a skip), with the
    schedule before and after, the agreement text it replaced and the one re-issued, and the
    cardholder's consent to it. Rows are never changed: the plan's history of agreements."""

    __tablename__ = "plan_revision"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_plan_revision_plan_number"),
        CheckConstraint("kind IN ('date_change', 'delay', 'skip')", name="kind_known"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per plan; 0 is the agreement itself
    kind: Mapped[str] = mapped_column(String(16))
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("plan_instalment.id"))
    instalment_seq: Mapped[int | None] = mapped_column(Integer)
    new_date: Mapped[date | None] = mapped_column(Date)
    schedule_before: Mapped[list] = mapped_column(JSON)
    schedule_after: Mapped[list] = mapped_column(JSON)
    previous_terms_hash: Mapped[str | None] = mapped_column(String(64))
    previous_terms_text: Mapped[str | None] = mapped_column(Text)
    terms_hash: Mapped[str] = mapped_column(String(64))
    terms_locale: Mapped[str] = mapped_column(String(16))
    terms_text: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_user_agent: Mapped[str | None] = mapped_column(String(500))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    plan: Mapped[Plan] = relationship()


__all__ = ["Plan", "PlanInstalment", "PlanStatus", "InstalmentStatus", "HardshipStatement",
           "ProofDocument", "PlanRevision", "PLAN_MACHINE", "INSTALMENT_MACHINE"]
