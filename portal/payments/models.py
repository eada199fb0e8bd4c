"""Payments, webhook events, refunds/chargebacks and autopay mandates."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey,
                        Index, Integer, String, Text, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account, str_enum
from portal.extensions import db
from portal.payments.states import PaymentStatus
from portal.timeutil import utcnow


class PaymentChoice(enum.StrEnum):
    OVERDUE = "overdue"
    INSTALMENT = "instalment"
    FULL = "full"
    OTHER = "other"
    AUTOPAY = "autopay"


class Payment(db.Model):
    """One attempt to take money. The row and its idempotency key exist before the provider
    hears of it; `status == succeeded` means the ledger entries are posted."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount",
                                      name="refund_within_amount"),
                      # the staff list: newest first, all or by status
                      Index("ix_payment_created_at_id", "created_at", "id"),
                      Index("ix_payment_status_created_at_id", "status", "created_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    choice: Mapped[PaymentChoice] = mapped_column(str_enum(PaymentChoice, "payment_choice"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    provider_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"),
                                                  default=PaymentStatus.CREATED, index=True)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    off_session: Mapped[bool] = mapped_column(Boolean, default=False)
    instalment_id: Mapped[int | None] = mapped_column(Integer)  # autopay: what it pays
    allocation: Mapped[dict | None] = mapped_column(JSON)
    # What of the payment went to the statement's minimum (overdue or next due) when it was
    # posted; the rest went beyond it. A reversal takes back the part beyond first, and only
    # what it takes of the minimum makes it owed again (`posting.post_reversal`). None for
    # payments posted before it was kept: all of such a payment counts as minimum.
    toward_minimum: Mapped[int | None] = mapped_column(BigInteger)
    plan_application: Mapped[list | None] = mapped_column(JSON)
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # Staff refunds made so far through the portal: the provider's idempotency key of the next
    # one includes it, so a retry after an unknown result reuses the key until it is known.
    refund_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The cardholder's bank contests the charge: the provider's dispute status (needs_response,
    # warning_needs_response for an inquiry, won, lost, ...); None when never contested.
    dispute_status: Mapped[str | None] = mapped_column(String(32))
    paid_on: Mapped[date | None] = mapped_column(Date)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow, index=True)

    account: Mapped[Account] = relationship()
    reversals: Mapped[list[PaymentReversal]] = relationship(
        back_populates="payment", order_by="PaymentReversal.id")


class ReversalKind(enum.StrEnum):
    REFUND = "refund"
    CHARGEBACK = "chargeback"


class PaymentReversal(db.Model):
    """A refund or a chargeback: money that went back, posted as reversal entries."""

    __tablename__ = "payment_reversal"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    kind: Mapped[ReversalKind] = mapped_column(str_enum(ReversalKind, "reversal_kind"))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    # Unique: a refund id, a dispute id or a staff request key is applied once.
    external_ref: Mapped[str] = mapped_column(String(128), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    plan_reversal: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A chargeback the issuer won: its money came back and was posted again (once).
    reinstated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    payment: Mapped[Payment] = relationship(back_populates="reversals")


class WebhookEvent(db.Model):
    """Every provider event we accepted, once: the unique id makes a redelivery a no-op.

    Posted in its request (`state` done at once), or, with the inbox on, recorded `pending`
    with its verified `payload` and posted by a worker (portal/payments/inbox.py), which marks
    it done in the same transaction as its effects; a failing one keeps its error."""

    __tablename__ = "webhook_event"
    __table_args__ = (CheckConstraint("state IN ('pending', 'done', 'failed')",
                                      name="state_known"),
                      Index("ix_webhook_event_pending", "id",
                            postgresql_where=text("state = 'pending'"),
                            sqlite_where=text("state = 'pending'")),
                      Index("ix_webhook_event_failed", "id",
                            postgresql_where=text("state = 'failed'"),
                            sqlite_where=text("state = 'failed'")),
                      Index("ix_webhook_event_body_kept", "processed_at",
                            postgresql_where=text("state = 'done' AND payload IS NOT NULL"),
                            sqlite_where=text("state = 'done' AND payload IS NOT NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    object_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The verified event (inbox only), dropped WEBHOOK_BODY_DAYS after it was posted.
    payload: Mapped[dict | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)  # the last failure, for an operator
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AutopayMandate(db.Model):
    """A saved card and the cardholder's consent to charge instalments automatically."""

    __tablename__ = "autopay_mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(16))
    customer_ref: Mapped[str | None] = mapped_column(String(128))
    setup_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    payment_method_ref: Mapped[str | None] = mapped_column(String(128))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    account: Mapped[Account] = relationship()


class SandboxIntent(db.Model):
    """The sandbox provider's own records (payment and setup intents), standing in for Stripe's
    servers; the portal reaches them only through the sandbox gateway."""

    __tablename__ = "sandbox_intent"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # payment | setup
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    client_secret: Mapped[str] = mapped_column(String(96))
    card_number: Mapped[str | None] = mapped_column(String(19))  # test numbers only
    payment_method: Mapped[str | None] = mapped_column(String(64))
    metadata_json: Mapped[dict | None] = mapped_column(JSON)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the charge succeeded, as Stripe's charge `created` tells it: a success found later
    # (reconciliation, a refund before the success event) is dated that day, not the day found.
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
