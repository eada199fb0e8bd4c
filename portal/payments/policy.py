"""Payment policy: the "payments" section of the account's policy profile (in force on the day
asked about), with the defaults below for what a version lacks (versions published before the
section existed). A section this code cannot read is refused at publishing; a version stored
before that check keeps working, the defaults standing in (logged) for what it cannot use."""
from __future__ import annotations

import copy
import logging
from datetime import date

from portal.policy.rules import is_whole_number, register_section_check
from portal.policy.services import UnknownProfile, policy_for
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

DEFAULTS = {
    # The smallest "other amount" a cardholder may pay, in minor units per currency.
    "minimum_other_amount": {"CNY": 1000, "HKD": 1000, "USD": 500, "default": 100},
    # Days after the due date on which a declined autopay charge is tried again.
    "autopay_retry_days": [2, 5],
    # Wallets offered beside cards, per currency (Stripe's payment method type names).
    "wallets": {"CNY": ["alipay", "wechat_pay"], "HKD": ["alipay", "wechat_pay"]},
}


def _usable(key: str, value) -> bool:
    """Whether a section's value has the shape the payment code reads."""
    if key == "minimum_other_amount":
        return isinstance(value, dict) and all(
            isinstance(k, str) and is_whole_number(v) and v > 0 for k, v in value.items())
    if key == "autopay_retry_days":
        return isinstance(value, list) and all(is_whole_number(d) and d >= 0 for d in value)
    if key == "wallets":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(w, str) for w in v)
            for k, v in value.items())
    return False


def unusable_keys(section) -> list[str]:
    """The keys of a "payments" section this code cannot read ("" when it is not a table):
    the policy refuses to publish such a version."""
    if not isinstance(section, dict):
        return [""]
    return [key for key in DEFAULTS if key in section and not _usable(key, section[key])]


register_section_check("payments", unusable_keys)


def payments_policy(profile: str | None, as_of: date | None = None) -> dict:
    """The payment policy in force for `profile` on `as_of` (the account's local date; today in
    UTC if not given): the profile's "payments" section, each key the section lacks, or holds in
    a shape this code cannot read (only in versions stored before publishing checked it:
    `unusable_keys`; logged), taken from DEFAULTS. An unknown profile gets the defaults."""
    result = copy.deepcopy(DEFAULTS)
    if not profile:
        return result
    try:
        section = policy_for(profile, as_of or utcnow().date()).section("payments")
    except UnknownProfile:
        return result
    if not isinstance(section, dict):
        return result
    unusable = set(unusable_keys(section))
    for key in DEFAULTS:
        if key in unusable:
            log.warning("policy %s: payments.%s is not usable; the default applies", profile, key)
        elif key in section:
            result[key] = section[key]
    return result


def minimum_other_amount(policy: dict, currency: str) -> int:
    table = policy["minimum_other_amount"]
    return int(table.get(currency, table.get("default", 100)))


def wallets_for(policy: dict, currency: str) -> list[str]:
    return list(policy.get("wallets", {}).get(currency, []))


def retry_days(policy: dict) -> list[int]:
    """Days after the due date on which autopay charges: 0 (the due date), then the retries."""
    return sorted({0, *(int(d) for d in policy["autopay_retry_days"])})
