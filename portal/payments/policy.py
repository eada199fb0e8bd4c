"""Payment policy: defaults here, overridden by an optional "payments" section of the account's
policy profile (the ledger feature's profile documents) when that exists."""
from __future__ import annotations

import copy
from datetime import date

DEFAULTS = {
    # The smallest "other amount" a cardholder may pay, in minor units per currency.
    "minimum_other_amount": {"CNY": 1000, "HKD": 1000, "USD": 500, "default": 100},
    # Days after the due date on which a declined autopay charge is tried again.
    "autopay_retry_days": [2, 5],
    # Wallets offered beside cards, per currency (Stripe's payment method type names).
    "wallets": {"CNY": ["alipay", "wechat_pay"], "HKD": ["alipay", "wechat_pay"]},
}


def payments_policy(profile: str | None, as_of: date | None = None) -> dict:
    """The effective payment policy for a profile: defaults, overlaid by its "payments" section."""
    result = copy.deepcopy(DEFAULTS)
    section = None
    if profile:
        try:
            from portal.policy.services import policy_for

            section = policy_for(profile, as_of or date.today()).section("payments")
        except Exception:  # no policy module, unknown profile: the defaults stand
            section = None
    if isinstance(section, dict):
        result.update({k: v for k, v in section.items() if k in DEFAULTS})
    return result


def minimum_other_amount(policy: dict, currency: str) -> int:
    table = policy["minimum_other_amount"]
    return int(table.get(currency, table.get("default", 100)))


def wallets_for(policy: dict, currency: str) -> list[str]:
    return list(policy.get("wallets", {}).get(currency, []))
