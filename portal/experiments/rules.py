"""Pure rules of champion/challenger experiments: which arm an account falls in, and what a
definition may say. No framework here (unit-tested without a database).

An account's arm is drawn from a keyed hash: HMAC-SHA256 of the account id under the
experiment's own random salt, read as a number in [0, 1); below the challenger's share it is
arm "b" (the challenger), otherwise "a" (the champion). The salt is random, so which accounts
land together is random; the hash is fixed, so drawing again gives the same arm. The drawn
arm is stored when the account is assigned (at creation, or by the assignment job once it
becomes overdue: portal/experiments/assignment.py draws the same arm in SQL), and the stored
row is what the product reads, so an account stays in its arm whatever happens afterwards.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, timedelta

ARMS = ("a", "b")  # a: champion, b: challenger
KINDS = ("offers", "reminder")
# Wordings of the "payment under your plan is due soon" reminder (portal/collections/reminders.py)
# that an experiment may choose between; each is written and translated in the code.
REMINDER_VARIANTS = ("standard", "short")
MAX_OFFER_COUNT = 120
MAX_FIRST_DUE_DAYS = 60
MAX_NAME = 60
MAX_DAYS = 366  # an experiment starts within a year and lasts at most a year


def arm_for(salt: str, account_id: int, challenger_percent: int) -> str:
    """The arm of an account: "b" for a share of `challenger_percent` of accounts, else "a"."""
    digest = hmac.new(salt.encode(), str(int(account_id)).encode(), hashlib.sha256).digest()
    draw = int.from_bytes(digest[:8], "big")  # in [0, 2**64): compared exactly, as in SQL
    return "b" if draw * 100 < challenger_percent * 2 ** 64 else "a"


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    profile: str
    starts_on: date
    ends_on: date
    challenger_percent: int
    arm_names: dict = field(default_factory=dict)  # arm -> name
    settings: dict = field(default_factory=dict)  # arm -> {"counts", "first_due_days"} | {"template"}


def parse_counts(text: str) -> list[int] | None:
    """ "3, 6, 12" -> [3, 6, 12] (sorted, no repeats); None when it is not a list of whole
    numbers from 1 to MAX_OFFER_COUNT (at most 12 of them)."""
    parts = [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]
    if not parts or len(parts) > 12 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    counts = sorted({int(p) for p in parts})
    return counts if all(1 <= c <= MAX_OFFER_COUNT for c in counts) else None


def check(defn: Definition, today: date, profiles: list[str]) -> list[tuple[str, str]]:
    """(field, code) for everything wrong with a definition; empty when it may be created."""
    errors = []
    if not defn.name.strip() or len(defn.name) > MAX_NAME:
        errors.append(("name", "name"))
    if defn.kind not in KINDS:
        errors.append(("kind", "kind"))
    if defn.profile not in profiles:
        errors.append(("profile", "profile"))
    if defn.starts_on < today:
        errors.append(("starts_on", "start_past"))
    if defn.ends_on < defn.starts_on:
        errors.append(("ends_on", "end_before_start"))
    elif defn.starts_on > today + timedelta(days=MAX_DAYS) or \
            defn.ends_on > defn.starts_on + timedelta(days=MAX_DAYS):
        errors.append(("ends_on", "too_far"))
    if not 1 <= defn.challenger_percent <= 99:
        errors.append(("challenger_percent", "split"))
    for arm in ARMS:
        name = defn.arm_names.get(arm, "")
        if not name.strip() or len(name) > MAX_NAME:
            errors.append((f"{arm}_name", "name"))
        errors += [(f"{arm}_{key}", code) for key, code in _settings_errors(defn.kind,
                                                                           defn.settings.get(arm))]
    if defn.kind in KINDS and not errors and defn.settings["a"] == defn.settings["b"]:
        errors.append(("b_settings", "same_arms"))
    return errors


def _settings_errors(kind: str, settings) -> list[tuple[str, str]]:
    if not isinstance(settings, dict):
        return [("settings", "settings")]
    if kind == "offers":
        counts, days = settings.get("counts"), settings.get("first_due_days")
        bad = []
        if not (isinstance(counts, list) and counts
                and all(isinstance(c, int) and 1 <= c <= MAX_OFFER_COUNT for c in counts)):
            bad.append(("counts", "counts"))
        if not (isinstance(days, int) and 0 <= days <= MAX_FIRST_DUE_DAYS):
            bad.append(("first_due_days", "first_due_days"))
        return bad
    if kind == "reminder":
        return [] if settings.get("template") in REMINDER_VARIANTS else [("template", "template")]
    return []


def running(starts_on: date, ends_on: date, stopped_on: date | None, day: date) -> bool:
    """Whether the experiment's arms apply on `day`: from its start to its end (inclusive),
    or to the day before it was stopped."""
    last = ends_on if stopped_on is None else min(ends_on, stopped_on - timedelta(days=1))
    return starts_on <= day <= last
