"""Recording what the issuer's feed says it has applied of the portal's movements.

Used by the feed import (portal/journal/importer.py) inside its batch transaction: it loads
the movements still pending for the batch's accounts, records the acknowledgements each row
brings, and adds the acknowledged amounts to the issuer's figures it compares the feed with.
"""
from __future__ import annotations

from datetime import date, timezone

from sqlalchemy import and_, case, or_, select

from portal.accounts.models import Account, Component, LedgerEntry
from portal.extensions import db
from portal.journal.models import AckSource, JournalAck, is_acknowledged, is_movement
from portal.journal.rules import applied_by_old_feed
from portal.timeutil import as_aware

# ledger entry id -> (component, amount, UTC posting day)
Pending = dict[int, tuple[str, int, date]]


def in_issuer_figures(cutoff):
    """SQL: the entry is part of the issuer's figures on `cutoff` (a date expression): its own
    entries and the nightly accruals up to that date, and every portal movement it applied."""
    return or_(and_(~is_movement(), LedgerEntry.effective_date <= cutoff),
               and_(is_movement(), is_acknowledged()))


def pending_movements(numbers) -> dict[str, Pending]:
    """Portal movements not yet acknowledged, per account number."""
    result: dict[str, Pending] = {}
    for entry_id, number, component, amount, posted_at in db.session.execute(
        select(LedgerEntry.id, Account.account_number, LedgerEntry.component, LedgerEntry.amount,
               LedgerEntry.posted_at)
        .join(Account, LedgerEntry.account_id == Account.id)
        .where(Account.account_number.in_(numbers), is_movement(), ~is_acknowledged())
    ):
        day = as_aware(posted_at).astimezone(timezone.utc).date()
        result.setdefault(number, {})[entry_id] = (Component(component).value, int(amount), day)
    return result


def named_entries(ids) -> dict[int, tuple[str, bool]]:
    """For ledger entry ids a feed names: (account number, whether it is a portal movement)."""
    if not ids:
        return {}
    return {entry_id: (number, bool(movement)) for entry_id, number, movement in db.session.execute(
        select(LedgerEntry.id, Account.account_number, case((is_movement(), 1), else_=0))
        .join(Account, LedgerEntry.account_id == Account.id)
        .where(LedgerEntry.id.in_(list(ids))))}


def choose(pending: Pending, applied: tuple[int, ...] | None, as_of: date,
           old_feed_lag_days: int) -> tuple[AckSource, list[int]]:
    """Which pending movements a feed row dated `as_of` acknowledges, in id order: those it
    lists in `applied` (ids already acknowledged are skipped), or, when the row does not say
    (`applied` is None, an old feed), those the date rule takes as applied."""
    if applied is None:
        chosen = [i for i, (_, _, day) in pending.items()
                  if applied_by_old_feed(day, as_of, old_feed_lag_days)]
        return AckSource.OLD_FEED, sorted(chosen)
    return AckSource.FEED, sorted(i for i in applied if i in pending)


def acknowledge(account_id: int, pending: Pending, applied: tuple[int, ...] | None,
                as_of: date, old_feed_lag_days: int) -> list[tuple[int, str, int]]:
    """Record as applied the pending movements `choose` picks for a feed row. Removes them
    from `pending`; returns (ledger entry id, component, amount) of each, in id order. Adds,
    the caller flushes."""
    source, chosen = choose(pending, applied, as_of, old_feed_lag_days)
    done = []
    for entry_id in chosen:
        component, amount, _ = pending.pop(entry_id)
        db.session.add(JournalAck(ledger_entry_id=entry_id, account_id=account_id,
                                  feed_as_of=as_of, source=source))
        done.append((entry_id, component, amount))
    return done
