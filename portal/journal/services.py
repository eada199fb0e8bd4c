"""What operators need to know about the journal with the issuer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.accounts.models import Account, LedgerEntry
from portal.extensions import db
from portal.journal.models import is_acknowledged, is_movement
from portal.journal.rules import movement_id
from portal.timeutil import as_aware

LIMIT = 10_000


@dataclass(frozen=True)
class Unacknowledged:
    movement_id: str
    account_number: str
    kind: str
    amount: int
    currency: str
    posted_at: datetime
    age_days: int


def unacknowledged(now: datetime, older_than_days: int, limit: int = LIMIT) -> list[Unacknowledged]:
    """Portal movements posted more than `older_than_days` before `now` that no feed has
    acknowledged yet, oldest first (at most `limit`): a lost export or a movement the issuer
    refused shows here. Reads only."""
    cutoff = now - timedelta(days=older_than_days)
    rows = db.session.execute(
        select(LedgerEntry.id, Account.account_number, LedgerEntry.kind, LedgerEntry.amount,
               LedgerEntry.currency, LedgerEntry.posted_at)
        .join(Account, LedgerEntry.account_id == Account.id)
        .where(is_movement(), ~is_acknowledged(), LedgerEntry.posted_at < cutoff)
        .order_by(LedgerEntry.posted_at, LedgerEntry.id).limit(limit))
    return [Unacknowledged(movement_id(entry_id), number, kind.value, int(amount), currency,
                           as_aware(posted_at), (now - as_aware(posted_at)).days)
            for entry_id, number, kind, amount, currency, posted_at in rows]
