"""The issuer's acknowledgements of portal movements, and which ledger entries are movements.

A ledger entry is a *portal movement* (exported in the journal, netted out of feeds until the
issuer acknowledges it) unless it is the issuer's own figure (a statement balance, a feed
adjustment) or a nightly accrual (late fee, penalty interest), which the issuer's system
charges itself and its feed supersedes up to its date, or a correction of such accruals that
a feed made due (the feed's figures as of a day the nightly run had already walked past:
the issuer's own arithmetic, `portal.jobs.corrections.on_issuer_figures_lowered`).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, exists, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import EntryKind, LedgerEntry, str_enum
from portal.extensions import db
from portal.timeutil import utcnow

# source_ref prefixes of entries that are not portal movements (importer, nightly run).
NOT_MOVEMENT_PREFIXES = ("feed:", "nightly:")
# ... nor are the corrections a feed made due, `correction:<entry id>:feed-<id>` (the cause).
FEED_CAUSE = "feed-"
FEED_CORRECTIONS = f"correction:%:{FEED_CAUSE}%"


class AckSource(enum.StrEnum):
    FEED = "feed"  # the feed row listed the movement in applied_portal_ids
    OLD_FEED = "old_feed"  # a feed without that field, by the documented date rule


class JournalAck(db.Model):
    """The issuer has applied one portal movement. Written once, never changed: a movement the
    issuer has applied stays applied."""

    __tablename__ = "journal_ack"

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    feed_as_of: Mapped[date] = mapped_column(Date)
    source: Mapped[AckSource] = mapped_column(str_enum(AckSource, "ack_source"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def is_movement():
    """SQL: the ledger entry is a portal movement."""
    clause = LedgerEntry.kind != EntryKind.STATEMENT_BALANCE
    for prefix in NOT_MOVEMENT_PREFIXES:
        clause = clause & ~LedgerEntry.source_ref.startswith(prefix)
    return clause & ~LedgerEntry.source_ref.like(FEED_CORRECTIONS)


def is_acknowledged():
    """SQL: the issuer has acknowledged the ledger entry (correlated on LedgerEntry.id)."""
    return exists(select(JournalAck.id).where(JournalAck.ledger_entry_id == LedgerEntry.id))


def not_in_issuer_figures():
    """SQL: a portal movement the issuer has not applied yet: the portal adds it to the
    issuer's figures."""
    return is_movement() & ~is_acknowledged()


class FeedSeen(db.Model):
    """The last feed row the import applied to an account, as a digest of that row's raw text
    together with the account's state right after (portal/journal/replay.py): the same row
    meeting the same state again changes nothing, so a replayed file can skip it. Rewritten by
    each import that applies a row; holds no feed values, only the digest."""

    __tablename__ = "journal_feed_seen"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
