"""The link to instalment plans, imported lazily: without a plans module there is no plan."""
from __future__ import annotations

from datetime import date


def _services():
    try:
        from portal.plans import services
    except ImportError:
        return None
    return services


def active_plan(account):
    services = _services()
    return services.active_plan(account) if services and hasattr(services, "active_plan") else None


def next_instalment(account):
    """The next unpaid instalment of the active plan, or None."""
    services = _services()
    if services is None or not hasattr(services, "next_instalment"):
        return None
    return services.next_instalment(account)


def next_instalments(accounts) -> dict:
    """`next_instalment` for many accounts in one query, by account id (absent: none)."""
    services = _services()
    if services is None or not hasattr(services, "next_instalments_for"):
        return {}
    return services.next_instalments_for(accounts)


def instalment_due(instalment) -> int:
    return max(0, int(instalment.amount) - int(instalment.paid_amount or 0))


def apply_payment(account, amount: int, paid_on: date) -> list[list[int]]:
    """Apply `amount` to the active plan's instalments (oldest first); [[instalment_id, applied]]."""
    services = _services()
    if services is None or not hasattr(services, "apply_payment") or active_plan(account) is None:
        return []
    return [[int(i), int(a)] for i, a in services.apply_payment(account, amount, paid_on)]


def reverse_payment(account, applied: list[list[int]]) -> None:
    """Reopen what `applied` paid on the plan's instalments."""
    services = _services()
    if applied and services is not None and hasattr(services, "reverse_payment"):
        services.reverse_payment(account, [(int(i), int(a)) for i, a in applied])
