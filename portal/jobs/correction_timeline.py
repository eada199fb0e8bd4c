"""Corrections for the past as cardholder timeline items: what was taken back, and why.

One item per cause, of kind `correction_payment`, `correction_credit` or `correction_feed` (a
payment that arrived late, a credit applied on a day already charged, the card issuer's figures
received after the days they cover were charged),
dated on the cardholder's day the correction was posted, with the total taken back and the
first day it covers. The charges themselves (a late fee, penalty interest) stay on the
timeline: they were made, and so was the correction. `portal.wiring` registers the source.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select

from portal.accounts.models import Account, Cardholder, LedgerEntry
from portal.consequences.types import TimelineItem
from portal.domain.dates import local_date
from portal.extensions import db
from portal.jobs.corrections import CORRECTION
from portal.timeutil import as_aware


def cause_of(source_ref: str) -> str:
    """"payment", "credit" or "feed": what made a correction entry
    (`correction:<id>:<cause>-<id>`)."""
    cause = source_ref.rsplit(":", 1)[-1]
    for kind in ("credit", "feed"):
        if cause.startswith(f"{kind}-"):
            return kind
    return "payment"


# The accounts' correction entries with their cardholder's zone; built once: only the ids
# change (issue 15).
_CORRECTIONS = (
    select(LedgerEntry.account_id, LedgerEntry.source_ref, LedgerEntry.amount,
           LedgerEntry.currency, LedgerEntry.effective_date, LedgerEntry.posted_at,
           Cardholder.timezone)
    .join(Account, Account.id == LedgerEntry.account_id)
    .join(Cardholder, Cardholder.id == Account.cardholder_id)
    .where(LedgerEntry.account_id.in_(bindparam("ids", expanding=True)),
           LedgerEntry.source_ref.startswith(CORRECTION))
    .order_by(LedgerEntry.id))


def correction_items_for(account_ids: list[int], as_of: date) -> dict[int, list[TimelineItem]]:
    """Per account id, the corrections posted on or before `as_of` (the cardholder's day), one
    item per cause. One query for all accounts."""
    if not account_ids:
        return {}
    rows = db.session.execute(_CORRECTIONS, {"ids": list(account_ids)})
    groups: dict[tuple[int, str], dict] = {}
    for account_id, ref, amount, currency, day, posted_at, zone in rows:
        cause = ref.rsplit(":", 1)[-1]
        group = groups.setdefault((account_id, cause), {
            "on": local_date(as_aware(posted_at), zone), "since": day, "amount": 0,
            "currency": currency, "cause": cause_of(ref)})
        group["amount"] -= amount
        group["since"] = min(group["since"], day)
    found: dict[int, list[TimelineItem]] = {}
    for (account_id, _), g in groups.items():
        if g["on"] <= as_of and g["amount"] > 0:
            found.setdefault(account_id, []).append(TimelineItem(
                kind=f"correction_{g['cause']}", on=g["on"], past=True, days_late=0,
                amount=g["amount"], currency=g["currency"], since=g["since"]))
    return found
