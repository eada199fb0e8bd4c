"""Who may read and record breathing spaces and vulnerability flags: the one rule.

They are sensitive personal data (PIPL art. 28; FCA FG21/1), needed only by the people who deal
with the cardholder: customer service (which takes the debt adviser's notice) and collections
managers for any account, a collector for the accounts they may work (collections' rule,
registered by `portal.wiring`). Risk, legal and admin see only what every staff member sees in
the account context: what is frozen, and until when.
"""
from __future__ import annotations

from typing import Callable

from portal.staff.models import Role

CARE_ROLES = (Role.CUSTOMER_SERVICE, Role.COLLECTOR, Role.COLLECTIONS_MANAGER)
_EVERY_ACCOUNT = (Role.CUSTOMER_SERVICE, Role.COLLECTIONS_MANAGER)
_collector_may_work: list[Callable[[object, int], bool]] = []


def register_collector_scope(check: Callable[[object, int], bool]) -> None:
    """The accounts a collector may work (`check(user, account_id)`), from collections."""
    if check not in _collector_may_work:
        _collector_may_work.append(check)


def may_handle_care(user, account=None) -> bool:
    """Whether `user` may read and record care records (of `account`, when given)."""
    if not getattr(user, "is_staff", False) or not user.has_role(*CARE_ROLES):
        return False
    if account is None or user.has_role(*_EVERY_ACCOUNT):
        return True
    return any(check(user, account.id) for check in _collector_may_work)
