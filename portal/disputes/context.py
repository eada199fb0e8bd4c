"""Read-only account context for the agent: balance, ledger, earlier disputes, and plans,
payments and notices when those features are installed."""
from __future__ import annotations

import importlib

from sqlalchemy import select

from portal.accounts.models import LedgerEntry
from portal.balances.services import balance_of
from portal.disputes.models import Dispute
from portal.extensions import db

# (module, class) of optional features: shown when present, skipped when not built yet.
OPTIONAL = (("plans", "portal.plans.models", "Plan"),
            ("payments", "portal.payments.models", "Payment"),
            ("notices", "portal.legal.models", "Notice"))


def _optional_rows(module_name: str, class_name: str, account_id: int) -> list:
    try:
        model = getattr(importlib.import_module(module_name), class_name)
        column = getattr(model, "account_id")
    except (ImportError, AttributeError):
        return []
    return list(db.session.scalars(select(model).where(column == account_id)
                                   .order_by(model.id.desc()).limit(20)))


def account_context(dispute) -> dict:
    """Everything the agent reads about the account; nothing here changes anything."""
    account = dispute.account
    ledger = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc()).limit(50)))
    earlier = list(db.session.scalars(
        select(Dispute).where(Dispute.account_id == account.id, Dispute.id != dispute.id)
        .order_by(Dispute.id.desc())))
    optional = {key: _optional_rows(module, cls, account.id) for key, module, cls in OPTIONAL}
    return {"account": account, "balance": balance_of(account), "ledger": ledger,
            "earlier": earlier, "optional": optional}
