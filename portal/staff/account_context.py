"""What staff read about one account while working a case: balance, recent ledger, plans,
payments, letters and disputes. Read-only, one query per kind of record."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.accounts.models import LedgerEntry
from portal.balances.services import balance_of
from portal.consequences.models import Notice
from portal.disputes.models import Dispute
from portal.extensions import db
from portal.payments.models import Payment
from portal.payments.staff_list import STATUS_LABELS
from portal.plans.models import Plan

RECENT = 20


def _latest(model, account_id: int, *order, limit: int = RECENT) -> list:
    return list(db.session.scalars(select(model).where(model.account_id == account_id)
                                   .order_by(*order).limit(limit)))


def account_context(account, as_of: date | None = None) -> dict:
    """The account's balance as of `as_of` (default: the cardholder's today) and its latest
    ledger entries, plans, payments, letters and disputes, newest first.

    Rendered by templates/staff/_account_context.html; callers may add keys
    (`referrals`, `current_dispute_id`) that the template shows when present."""
    return {
        "account": account,
        "balance": balance_of(account, as_of),
        "ledger": _latest(LedgerEntry, account.id, LedgerEntry.effective_date.desc(),
                          LedgerEntry.id.desc(), limit=50),
        "plans": _latest(Plan, account.id, Plan.id.desc()),
        "payments": _latest(Payment, account.id, Payment.id.desc()),
        "notices": _latest(Notice, account.id, Notice.issued_on.desc(), Notice.id.desc()),
        "disputes": _latest(Dispute, account.id, Dispute.id.desc()),
        "payment_status_labels": STATUS_LABELS,
    }
