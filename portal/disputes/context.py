"""Read-only account context for the agent: balance, ledger, earlier disputes, plans,
payments and letters."""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import LedgerEntry
from portal.balances.services import balance_of
from portal.consequences.models import Notice
from portal.disputes.models import Dispute
from portal.extensions import db
from portal.payments.models import Payment
from portal.plans.models import Plan


def _latest(model, account_id: int, limit: int = 20) -> list:
    return list(db.session.scalars(select(model).where(model.account_id == account_id)
                                   .order_by(model.id.desc()).limit(limit)))


def account_context(dispute) -> dict:
    """Everything the agent reads about the account; nothing here changes anything."""
    account = dispute.account
    ledger = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc()).limit(50)))
    earlier = list(db.session.scalars(
        select(Dispute).where(Dispute.account_id == account.id, Dispute.id != dispute.id)
        .order_by(Dispute.id.desc())))
    return {"account": account, "balance": balance_of(account), "ledger": ledger,
            "earlier": earlier, "plans": _latest(Plan, account.id),
            "payments": _latest(Payment, account.id), "notices": _latest(Notice, account.id)}
