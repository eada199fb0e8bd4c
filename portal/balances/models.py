"""Closing snapshots of the ledger: an account's component sums up to a day.

A snapshot is a cache with one rule for when it changes (docs/money.md, "Closing snapshots"):
it holds the sums of the account's entries dated on or before `closed_through`, per component.
The nightly run (or `flask ledger snapshots rebuild`) writes it while it holds the account's
row lock; every ledger entry inserted later and dated on or before `closed_through` adds itself
to it in its own transaction, by a database trigger (migration 0024_snapshots_ledger), so a
payment or a correction dated in the past keeps it exact. Ledger entries are never updated or
deleted, so nothing else can change what it sums.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class LedgerSnapshot(db.Model):
    __tablename__ = "ledger_snapshot"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    closed_through: Mapped[date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: utcnow())
