"""Read-only account context for the agent working a dispute."""
from __future__ import annotations

from portal.staff.account_context import account_context as _account_context


def account_context(dispute) -> dict:
    """Everything the agent reads about the dispute's account; nothing here changes anything."""
    return {**_account_context(dispute.account), "current_dispute_id": dispute.id}
