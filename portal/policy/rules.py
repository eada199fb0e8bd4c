"""A policy profile document: parsing and validation, pure (no Flask, no SQLAlchemy).

One profile version is one JSON document. This module knows the sections it needs
(`stages`, `late_fee`, `penalty_interest`, `consequences`, `notices`); any other section
(`plans`, `contact`, ...) is kept untouched in `Policy.document` for the features that own it.

Amounts are integer minor units of the profile's `currency`; rates are annual percentages
as decimal strings ("18.25"); days are days past due (DPD).

Error codes (PolicyError.code): ``missing`` (a required field is absent), ``invalid`` (wrong
type or format), ``thresholds_not_increasing``, ``rate_out_of_range`` (outside 0-100),
``day_not_positive``, ``day_count_invalid`` (not 360/365), ``missing_text`` (an explanation
is empty in a language), ``missing_rule`` (a consequence cites no rule), ``unknown_kind``,
``fee_min_above_max``, ``amount_negative``, ``day_too_large`` (beyond MAX_DAYS),
``amount_too_large`` (beyond MAX_AMOUNT).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from portal.domain.money import percent_of
from portal.domain.stages import StageThreshold, stage_for, validate_thresholds

KINDS = ("late_fee", "penalty_interest", "credit_report", "card_block", "formal_notice",
         "legal_referral", "charge_off")
LANGUAGES = ("en", "zh_Hans")
DAY_COUNTS = (360, 365)
# Sane bounds for every number a policy holds: ten years past due, and an amount no fee
# comes near (a million in major units of a two-decimal currency).
MAX_DAYS = 3650
MAX_AMOUNT = 100_000_000
MAX_PAY_BY_DAYS = 365


@dataclass(frozen=True)
class PolicyError:
    code: str
    path: str  # dotted path into the document, e.g. "consequences.card_block.dpd"


class PolicyInvalid(ValueError):
    def __init__(self, errors: list[PolicyError]):
        super().__init__(", ".join(f"{e.path}: {e.code}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class LateFeeRule:
    """A fixed amount, or a percent of the statement's minimum due, bounded by min/max.

    Charged once per delinquency cycle (per oldest unpaid due date), on the DPD day of the
    `late_fee` consequence. With `cap_at_minimum_due` the fee never exceeds the minimum due.
    """
    fixed: int | None
    percent_of_minimum_due: Decimal | None
    minimum: int
    maximum: int | None
    cap_at_minimum_due: bool

    def amount(self, minimum_due: int) -> int:
        fee = self.fixed if self.fixed is not None else percent_of(
            minimum_due, self.percent_of_minimum_due or Decimal(0))
        fee = max(fee, self.minimum)
        if self.maximum is not None:
            fee = min(fee, self.maximum)
        if self.cap_at_minimum_due:
            fee = min(fee, minimum_due)
        return max(fee, 0)


@dataclass(frozen=True)
class PenaltyInterest:
    """Daily simple interest on the principal from the `penalty_interest` DPD day on.

    `freeze_while_paused`: while escalation is paused (a kept plan, a dispute hold) no
    penalty interest is posted.
    """
    annual_rate: Decimal
    day_count: int
    freeze_while_paused: bool


@dataclass(frozen=True)
class Consequence:
    kind: str
    dpd: int
    explanation: dict[str, str]
    rule: str


@dataclass(frozen=True)
class Policy:
    profile: str
    version: int
    effective_from: date
    currency: str
    stages: tuple[StageThreshold, ...]
    late_fee: LateFeeRule | None
    penalty_interest: PenaltyInterest | None
    consequences: tuple[Consequence, ...]  # ordered by dpd, then by KINDS order
    notice_pay_by_days: int
    document: dict[str, Any] = field(compare=False, repr=False)

    def stage_for(self, dpd: int) -> str:
        return stage_for(dpd, self.stages)

    def consequence(self, kind: str) -> Consequence | None:
        return next((c for c in self.consequences if c.kind == kind), None)

    def section(self, name: str, default=None):
        """A section other features own (e.g. "plans", "contact"), as a deep copy."""
        return copy.deepcopy(self.document.get(name, default))


def decimal_or_none(value) -> Decimal | None:
    """A policy document's number as an exact Decimal; None for floats, bools and garbage.

    Documents are JSON: a rate must arrive as a string or an integer, never a float."""
    if isinstance(value, (bool, float)) or value is None:
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def is_whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def out_of_bounds(section: dict, bounds: dict[str, tuple[int, int]]) -> list[str]:
    """Keys of `section` among `bounds` whose value is not a whole number within its
    (lowest, highest): a feature's section check (`register_section_check`) starts here."""
    return [key for key, (low, high) in bounds.items()
            if key in section and not (is_whole_number(section[key])
                                       and low <= section[key] <= high)]


def usable_values(section, defaults: dict, unusable) -> dict:
    """`defaults` overlaid with the keys of `section` that its check found usable."""
    values = dict(defaults)
    if isinstance(section, dict):
        bad = set(unusable(section))
        values.update({k: section[k] for k in defaults if k in section and k not in bad})
    return values


class _Checker:
    def __init__(self):
        self.errors: list[PolicyError] = []

    def add(self, code: str, path: str) -> None:
        error = PolicyError(code, path)
        if error not in self.errors:
            self.errors.append(error)

    def int_field(self, section: dict, key: str, path: str, *, positive=False, optional=False,
                  most: int | None = None):
        value = section.get(key)
        if value is None:
            if not optional:
                self.add("missing", f"{path}.{key}")
            return None
        if not is_whole_number(value):
            self.add("invalid", f"{path}.{key}")
            return None
        if positive and value <= 0:
            self.add("day_not_positive", f"{path}.{key}")
        elif value < 0:
            self.add("amount_negative", f"{path}.{key}")
        elif value > (most or (MAX_DAYS if positive else MAX_AMOUNT)):
            self.add("day_too_large" if positive else "amount_too_large", f"{path}.{key}")
        return value

    def rate(self, section: dict, key: str, path: str) -> Decimal | None:
        if section.get(key) is None:
            self.add("missing", f"{path}.{key}")
            return None
        value = decimal_or_none(section[key])
        if value is None:
            self.add("invalid", f"{path}.{key}")
        elif not Decimal(0) <= value <= Decimal(100):
            self.add("rate_out_of_range", f"{path}.{key}")
        return value


def _section(doc, name, checker, required=True) -> dict | None:
    value = doc.get(name)
    if value is None:
        if required:
            checker.add("missing", name)
        return None
    if not isinstance(value, dict):
        checker.add("invalid", name)
        return None
    return value


def _stages(doc, c: _Checker) -> tuple[StageThreshold, ...]:
    raw = doc.get("stages")
    if not isinstance(raw, list) or not raw:
        c.add("missing" if raw is None else "invalid", "stages")
        return ()
    stages = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) \
                or not is_whole_number(item.get("min_dpd")):
            c.add("invalid", f"stages.{i}")
            continue
        if not 0 <= item["min_dpd"] <= MAX_DAYS:
            c.add("day_too_large" if item["min_dpd"] > 0 else "invalid", f"stages.{i}")
            continue
        stages.append(StageThreshold(item["code"], item["min_dpd"]))
    for code in validate_thresholds(stages):
        c.add({"not_increasing": "thresholds_not_increasing"}.get(code, "invalid"), "stages")
    return tuple(stages)


def _late_fee(doc, c: _Checker) -> LateFeeRule | None:
    s = _section(doc, "late_fee", c)
    if s is None:
        return None
    fixed = c.int_field(s, "fixed", "late_fee", optional=True)
    percent = None
    if s.get("percent_of_minimum_due") is not None:
        percent = c.rate(s, "percent_of_minimum_due", "late_fee")
    elif fixed is None:
        c.add("missing", "late_fee.fixed")
    minimum = c.int_field(s, "min", "late_fee", optional=True) or 0
    maximum = c.int_field(s, "max", "late_fee", optional=True)
    if maximum is not None and minimum > maximum:
        c.add("fee_min_above_max", "late_fee.max")
    return LateFeeRule(fixed, percent, minimum, maximum, bool(s.get("cap_at_minimum_due", False)))


def _penalty(doc, c: _Checker) -> PenaltyInterest | None:
    s = _section(doc, "penalty_interest", c)
    if s is None:
        return None
    rate = c.rate(s, "annual_rate", "penalty_interest")
    day_count = s.get("day_count")
    if day_count not in DAY_COUNTS or not is_whole_number(day_count):
        c.add("day_count_invalid", "penalty_interest.day_count")
    return PenaltyInterest(rate or Decimal(0), day_count if day_count in DAY_COUNTS else 365,
                           bool(s.get("freeze_while_paused", False)))


def _consequences(doc, c: _Checker) -> tuple[Consequence, ...]:
    s = _section(doc, "consequences", c)
    if s is None:
        return ()
    found = []
    for kind, item in s.items():
        path = f"consequences.{kind}"
        if kind not in KINDS:
            c.add("unknown_kind", path)
            continue
        if not isinstance(item, dict):
            c.add("invalid", path)
            continue
        dpd = c.int_field(item, "dpd", path, positive=True)
        texts = item.get("explanation")
        texts = texts if isinstance(texts, dict) else {}
        for lang in LANGUAGES:
            if not isinstance(texts.get(lang), str) or not texts[lang].strip():
                c.add("missing_text", f"{path}.explanation.{lang}")
        rule = item.get("rule")
        if not isinstance(rule, str) or not rule.strip():
            c.add("missing_rule", f"{path}.rule")
        if dpd is not None and dpd > 0:
            found.append(Consequence(kind, dpd, {k: str(v) for k, v in texts.items()},
                                     str(rule or "")))
    return tuple(sorted(found, key=lambda x: (x.dpd, KINDS.index(x.kind))))


def validate_document(doc: Any) -> list[PolicyError]:
    """Every problem with a document about to be published (empty list: it is usable),
    the sections features check included."""
    errors = section_errors(doc)
    try:
        parse_policy(doc, profile="check", version=0, effective_from=date.min)
    except PolicyInvalid as exc:
        return exc.errors + [e for e in errors if e not in exc.errors]
    return errors


# Sections owned by a feature (e.g. "payments"), checked by that feature: each check takes the
# section and returns the keys whose value it cannot use ("" for the section itself).
_SECTION_CHECKS: dict[str, Callable[[Any], list[str]]] = {}


def register_section_check(section: str, check: Callable[[Any], list[str]]) -> None:
    """Have publishing refuse a document whose `section` fails `check`, so a version a
    feature could not read is never published. Versions already stored are not re-judged
    when read (`parse_policy` does not ask): the feature falls back for what it cannot use."""
    _SECTION_CHECKS[section] = check


def section_errors(doc: Any) -> list[PolicyError]:
    """What the registered section checks find in `doc` (see `register_section_check`)."""
    if not isinstance(doc, dict):
        return []
    return [PolicyError("invalid", f"{name}.{key}" if key else name)
            for name, check in _SECTION_CHECKS.items() if name in doc
            for key in check(doc[name])]


def parse_policy(doc: Any, *, profile: str, version: int, effective_from: date) -> Policy:
    """A validated Policy from a document; raises PolicyInvalid listing every error."""
    c = _Checker()
    if not isinstance(doc, dict):
        raise PolicyInvalid([PolicyError("invalid", "")])
    currency = doc.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        c.add("missing" if currency is None else "invalid", "currency")
    stages = _stages(doc, c)
    late_fee = _late_fee(doc, c)
    penalty = _penalty(doc, c)
    consequences = _consequences(doc, c)
    notices = _section(doc, "notices", c) or {}
    pay_by = c.int_field(notices, "pay_by_days", "notices", positive=True,
                         most=MAX_PAY_BY_DAYS) if notices else None
    if c.errors:
        raise PolicyInvalid(c.errors)
    return Policy(profile=profile, version=version, effective_from=effective_from,
                  currency=currency, stages=stages, late_fee=late_fee, penalty_interest=penalty,
                  consequences=consequences, notice_pay_by_days=pay_by or 14,
                  document=copy.deepcopy(doc))
