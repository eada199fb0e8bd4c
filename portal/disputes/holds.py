"""The collection hold: while a dispute contesting the debt is open, escalation and reminders
on the contested amount stop. `hold_pause` is an escalation-pause provider, wired by
`portal.wiring`."""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import lazyload

from portal.consequences.pauses import Pause
from portal.disputes import data
from portal.disputes.models import Dispute
from portal.disputes.rules import ACTIVE
from portal.domain.dates import local_date
from portal.extensions import db
from portal.timeutil import as_aware


# A pause needs the disputes' own columns only: not their queue (joined by default) nor the
# queue's members (one more query), which every page showing a timeline would pay for.
_NO_QUEUE = lazyload(Dispute.queue)


def _contesting(account_id: int):
    return (select(Dispute)
            .where(Dispute.account_id == account_id,
                   Dispute.category.in_(sorted(data.CONTESTING)))
            .options(_NO_QUEUE).order_by(Dispute.id))


def _local_day(moment, account) -> date:
    return local_date(as_aware(moment), account.cardholder.timezone)


def hold_pause(account, as_of: date) -> Pause | None:
    """A Pause(reason="dispute") on `as_of` while a contesting dispute on `account` is open:
    raised on or before that day (cardholder's calendar) and not closed on or before it.

    `amount` is the sum of the contested amounts; `since` the day the oldest one was raised;
    `reference` its id. Answers for past days too, so a catch-up nightly run is right.
    """
    return _pause_from(list(db.session.scalars(_contesting(account.id))), account, as_of)


def _pause_from(contesting, account, as_of: date) -> Pause | None:
    disputes = [d for d in contesting
                if _local_day(d.created_at, account) <= as_of
                and (d.closed_at is None or _local_day(d.closed_at, account) > as_of)]
    if not disputes:
        return None
    amounts = [d.contested_amount for d in disputes]
    total = None if any(a is None for a in amounts) else sum(amounts)
    first = disputes[0]
    return Pause(reason="dispute", since=_local_day(first.created_at, account), amount=total,
                 reference=str(first.id))


def on_hold(account, as_of: date) -> bool:
    """True while a contesting dispute on `account` is open: send no reminders."""
    return hold_pause(account, as_of) is not None


def accounts_on_hold(account_ids) -> set[int]:
    """Of `account_ids`, those with an open contesting dispute now (one query, for batch jobs)."""
    if not account_ids:
        return set()
    rows = db.session.execute(
        select(Dispute.account_id, func.count())
        .where(Dispute.account_id.in_(list(account_ids)), Dispute.status.in_(list(ACTIVE)),
               Dispute.category.in_(sorted(data.CONTESTING)))
        .group_by(Dispute.account_id))
    return {account_id for account_id, _ in rows}


def accounts_with_contesting_disputes(account_ids) -> set[int]:
    """Of `account_ids`, those with a contesting dispute in any state: the only accounts
    `hold_pause` can answer for on some day (one query, so the nightly run asks no others)."""
    if not account_ids:
        return set()
    return set(db.session.scalars(
        select(Dispute.account_id).distinct()
        .where(Dispute.account_id.in_(list(account_ids)),
               Dispute.category.in_(sorted(data.CONTESTING)))))


# The accounts' contesting disputes, built once: only the ids change (issue 15).
_CONTESTING = (select(Dispute).where(Dispute.account_id.in_(bindparam("ids", expanding=True)),
                                     Dispute.category.in_(sorted(data.CONTESTING)))
               .options(_NO_QUEUE).order_by(Dispute.id))


def hold_pauses(accounts, as_of: date) -> dict[int, Pause]:
    """`hold_pause` for many accounts in one query (for pages listing several accounts)."""
    by_account: dict[int, list] = {}
    for d in db.session.scalars(_CONTESTING, {"ids": [a.id for a in accounts]}):
        by_account.setdefault(d.account_id, []).append(d)
    pauses = {a.id: _pause_from(by_account.get(a.id, []), a, as_of) for a in accounts}
    return {k: v for k, v in pauses.items() if v is not None}

