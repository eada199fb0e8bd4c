"""The journal export: every portal movement posted in a window, for the issuer's core system.

One row per ledger entry the portal originated (`portal.journal.models.is_movement`: payments,
reversals for refunds and chargebacks, dispute credits, waivers, a plan's interest), selected
by *posting time* (`LedgerEntry.posted_at`, UTC), never by value date: a payment posted late
but dated earlier, or a refund made weeks after its payment, goes out in the window in which
the portal posted it. Ledger entries never change, so a window that has closed always gives the
same file. The issuer names the movements it has applied in the feed's `applied_portal_ids`
(docs/money.md).
"""
from __future__ import annotations

from datetime import date
from typing import Iterator

from sqlalchemy import select

from portal.accounts.models import Account, LedgerEntry
from portal.exports.services import BATCH, _day, _moment, _money, window
from portal.extensions import db
from portal.journal.models import is_movement
from portal.journal.rules import movement_id

JOURNAL_COLUMNS = (
    "movement_id", "account_number", "kind", "component", "amount", "currency", "value_date",
    "posted_at", "reverses_movement_id", "reference",
)


def journal_rows(since: date, until: date | None = None) -> Iterator[dict]:
    """Portal movements posted from `since` to `until` (UTC days, inclusive), in id order.
    `amount` is signed like the ledger: negative lowers what the cardholder owes."""
    start, end = window(since, until)
    query = (select(LedgerEntry, Account.account_number)
             .join(Account, LedgerEntry.account_id == Account.id)
             .where(is_movement(), LedgerEntry.posted_at >= start))
    if end is not None:
        query = query.where(LedgerEntry.posted_at < end)
    rows = db.session.execute(query.order_by(LedgerEntry.id).execution_options(yield_per=BATCH))
    for entry, number in rows:
        yield {
            "movement_id": movement_id(entry.id), "account_number": number,
            "kind": entry.kind.value, "component": entry.component.value,
            "amount": _money(entry.amount, entry.currency), "currency": entry.currency,
            "value_date": _day(entry.effective_date), "posted_at": _moment(entry.posted_at),
            "reverses_movement_id": (movement_id(entry.reversal_of_id)
                                     if entry.reversal_of_id else ""),
            "reference": entry.source_ref,
        }
