"""Read-only account context for the agent working a dispute, and disputes' part of every
staff account context."""
from __future__ import annotations

from portal.disputes.models import Dispute
from portal.staff.account_context import account_context as _account_context, latest


def account_context(dispute) -> dict:
    """Everything the agent reads about the dispute's account; nothing here changes anything."""
    return {**_account_context(dispute.account), "current_dispute_id": dispute.id}


def staff_context_section(account) -> dict:
    """Disputes' part of the staff account context (portal.staff.account_context)."""
    return {"disputes": latest(Dispute, account.id, Dispute.id.desc())}
