"""Plan policy: the "plans" section of a profile document, parsed and checked. Pure code.

The section (amounts in minor units per currency, percentages as decimal strings):

    {"limits": {...}, "auto_approval": {...}, "stages": {"<stage>": {"limits": {...},
     "auto_approval": {...}}}, "authority": {"collector": {...}}, "offers": {...},
     "savings_rate_percent": "18.25", "rule": "..."}

`limits` say what any plan may be; `auto_approval` (the envelope) is a tighter set of the same
keys a proposal must stay inside to be accepted on the spot; a stage entry overrides keys of
either for accounts in that stage. See `LIMIT_KEYS` for each key.
Validation error codes (`validate_plans_section`): missing, invalid, negative,
percent_out_of_range, min_above_max, unknown_type, unknown_frequency, envelope_wider.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from portal.domain.schedule import Frequency
from portal.policy.rules import decimal_or_none, is_whole_number

PLAN_TYPES = ("instalment", "settlement", "deferral")
INTEREST_MODES = ("frozen", "reduced")
FREQUENCIES = tuple(f.value for f in Frequency)
# key -> kind; every key is required in `limits`, optional in envelope/stage overrides.
LIMIT_KEYS = {
    "plan_types": "types",               # allowed plan types
    "frequencies": "frequencies",        # allowed instalment frequencies
    "min_instalments": "int",            # instalment plans: fewest instalments
    "max_instalments": "int",            # instalment plans: most instalments (cn: 60 monthly)
    "max_deferral_days": "int",          # deferral: pay in full at most this many days away
    "first_due_within_days": "int",      # the first instalment is due within this many days
    "min_instalment": "money",           # {"CNY": 10000}: smallest instalment
    "min_down_payment_percent": "percent",
    "max_total": "money_optional",       # envelope: largest plan total accepted on the spot
    "interest": "interest",              # "frozen" or "reduced" (to interest_rate_percent)
    "interest_rate_percent": "percent",  # the reduced rate (annual), when interest="reduced"
    "fees_waived": "bool",               # may fees be waived
    "settlement_discount_percent": "percent",  # largest settlement discount
    "max_plans_per_12_months": "int",
    "cooling_off_days": "int",           # no new plan for this long after a broken one
    "grace_days": "int",                 # a missed instalment breaks the plan after this
}
OPTIONAL_KEYS = {"max_total", "interest_rate_percent"}


@dataclass(frozen=True)
class Limits:
    plan_types: tuple[str, ...]
    frequencies: tuple[str, ...]
    min_instalments: int
    max_instalments: int
    max_deferral_days: int
    first_due_within_days: int
    min_instalment: dict[str, int]
    min_down_payment_percent: Decimal
    max_total: dict[str, int] | None
    interest: str
    interest_rate_percent: Decimal | None
    fees_waived: bool
    settlement_discount_percent: Decimal
    max_plans_per_12_months: int
    cooling_off_days: int
    grace_days: int

    def min_instalment_for(self, currency: str) -> int:
        return self.min_instalment.get(currency, 1)

    def max_total_for(self, currency: str) -> int | None:
        return None if self.max_total is None else self.max_total.get(currency)


@dataclass(frozen=True)
class Authority:
    """What a collector may approve; anything beyond needs a collections_manager."""
    max_concession: dict[str, int]
    max_instalments: int


@dataclass(frozen=True)
class PlanPolicy:
    limits: Limits
    envelope: Limits
    authority: Authority
    offer_counts: tuple[int, ...] = (3, 6, 12)
    offer_first_due_days: int = 7
    savings_rate_percent: Decimal | None = None
    version: int = 0
    profile: str = ""
    stage: str = ""
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class PlanPolicyInvalid(ValueError):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(", ".join(f"{path}: {code}" for path, code in errors))
        self.errors = errors


def _check_value(kind: str, value, path: str, errors: list) -> Any:
    def bad(code="invalid"):
        errors.append((path, code))
        return None

    if kind == "types":
        if not isinstance(value, list) or not value:
            return bad()
        if any(v not in PLAN_TYPES for v in value):
            return bad("unknown_type")
        return tuple(value)
    if kind == "frequencies":
        if not isinstance(value, list) or not value:
            return bad()
        if any(v not in FREQUENCIES for v in value):
            return bad("unknown_frequency")
        return tuple(value)
    if kind == "int":
        if not is_whole_number(value):
            return bad()
        return value if value >= 0 else bad("negative")
    if kind in ("money", "money_optional"):
        if not isinstance(value, dict) or not value:
            return bad()
        if any(not (isinstance(k, str) and len(k) == 3) or not is_whole_number(v) for k, v in value.items()):
            return bad()
        if any(v < 0 for v in value.values()):
            return bad("negative")
        return dict(value)
    if kind == "percent":
        number = decimal_or_none(value)
        if number is None:
            return bad()
        return number if Decimal(0) <= number <= Decimal(100) else bad("percent_out_of_range")
    if kind == "bool":
        return value if isinstance(value, bool) else bad()
    if kind == "interest":
        return value if value in INTEREST_MODES else bad()
    raise AssertionError(kind)


def _parse_limits(raw: dict, path: str, errors: list, base: Limits | None = None) -> Limits | None:
    if not isinstance(raw, dict):
        errors.append((path, "invalid"))
        return None
    values: dict[str, Any] = {}
    for key, kind in LIMIT_KEYS.items():
        if raw.get(key) is None:
            if base is not None:
                values[key] = getattr(base, key)
            elif key in OPTIONAL_KEYS:
                values[key] = None
            else:
                errors.append((f"{path}.{key}", "missing"))
            continue
        values[key] = _check_value(kind, raw[key], f"{path}.{key}", errors)
    if any(values.get(k) is None and k not in OPTIONAL_KEYS for k in LIMIT_KEYS):
        return None
    if values["min_instalments"] > values["max_instalments"]:
        errors.append((f"{path}.max_instalments", "min_above_max"))
    if values["interest"] == "reduced" and values["interest_rate_percent"] is None:
        errors.append((f"{path}.interest_rate_percent", "missing"))
    return Limits(**values)


def _envelope_wider(env: Limits, lim: Limits) -> list[str]:
    """Keys where the envelope allows more than the limits (it must be a subset)."""
    wider = []
    if not set(env.plan_types) <= set(lim.plan_types):
        wider.append("plan_types")
    if not set(env.frequencies) <= set(lim.frequencies):
        wider.append("frequencies")
    if env.min_instalments < lim.min_instalments:
        wider.append("min_instalments")
    if env.max_instalments > lim.max_instalments:
        wider.append("max_instalments")
    for key in ("max_deferral_days", "first_due_within_days", "max_plans_per_12_months"):
        if getattr(env, key) > getattr(lim, key):
            wider.append(key)
    if env.min_down_payment_percent < lim.min_down_payment_percent:
        wider.append("min_down_payment_percent")
    if env.settlement_discount_percent > lim.settlement_discount_percent:
        wider.append("settlement_discount_percent")
    if env.fees_waived and not lim.fees_waived:
        wider.append("fees_waived")
    if any(env.min_instalment_for(c) < v for c, v in lim.min_instalment.items()):
        wider.append("min_instalment")
    wider.extend(_interest_wider(env, lim))
    return wider


def _interest_wider(env: Limits, lim: Limits) -> list[str]:
    """Where the envelope's interest gives up more than the limits allow, judged as
    `offers.check_terms` judges a plan: a frozen plan pays rate 0, a reduced one its rate, and
    neither may go below the limits' rate (their floor when they reduce interest). Else every
    instalment offer built from the envelope breaks the limits and none is shown."""
    if env.interest != "reduced" and lim.interest != "reduced":
        return []
    floor = lim.interest_rate_percent or Decimal(0)
    if env.interest != "reduced":
        return ["interest"] if floor > 0 else []
    rate = env.interest_rate_percent
    return ["interest_rate_percent"] if rate is not None and rate < floor else []


def parse_plans_section(section: Any, *, stage: str = "", version: int = 0,
                        profile: str = "") -> PlanPolicy:
    """The plan policy for `stage` (stage overrides applied); raises PlanPolicyInvalid."""
    errors: list[tuple[str, str]] = []
    if not isinstance(section, dict):
        raise PlanPolicyInvalid([("plans", "missing" if section is None else "invalid")])
    limits = _parse_limits(section.get("limits"), "plans.limits", errors)
    envelope = None
    if limits is not None:
        envelope = _parse_limits(section.get("auto_approval", {}), "plans.auto_approval",
                                 errors, base=limits)
    chosen = None
    stages = section.get("stages", {})
    if not isinstance(stages, dict):
        errors.append(("plans.stages", "invalid"))
        stages = {}
    if limits is not None and envelope is not None:
        errors.extend((f"plans.auto_approval.{k}", "envelope_wider")
                      for k in _envelope_wider(envelope, limits))
        for code, override in stages.items():
            p = f"plans.stages.{code}"
            if not isinstance(override, dict):
                errors.append((p, "invalid"))
                continue
            lim = _parse_limits(override.get("limits", {}), f"{p}.limits", errors, base=limits)
            env = lim and _parse_limits({**_raw(section.get("auto_approval", {})),
                                         **_raw(override.get("auto_approval", {}))},
                                        f"{p}.auto_approval", errors, base=lim)
            if lim and env:
                errors.extend((f"{p}.auto_approval.{k}", "envelope_wider")
                              for k in _envelope_wider(env, lim))
                if code == stage:
                    chosen = (lim, env)
        limits, envelope = chosen if stage in stages and chosen else (limits, envelope)
    authority = _parse_authority(section.get("authority"), errors)
    offers = section.get("offers", {}) if isinstance(section.get("offers", {}), dict) else {}
    counts = offers.get("counts", [3, 6, 12])
    if not isinstance(counts, list) or not all(is_whole_number(c) and c > 0 for c in counts):
        errors.append(("plans.offers.counts", "invalid"))
        counts = []
    first_due = offers.get("first_due_days", 7)
    if not is_whole_number(first_due) or first_due < 0:
        errors.append(("plans.offers.first_due_days", "invalid"))
        first_due = 7
    savings = section.get("savings_rate_percent")
    savings_rate = None
    if savings is not None:
        savings_rate = _check_value("percent", savings, "plans.savings_rate_percent", errors)
    if errors:
        raise PlanPolicyInvalid(errors)
    return PlanPolicy(limits=limits, envelope=envelope, authority=authority,
                      offer_counts=tuple(counts), offer_first_due_days=first_due,
                      savings_rate_percent=savings_rate, version=version, profile=profile,
                      stage=stage, document=copy.deepcopy(section))


def _raw(value) -> dict:
    return value if isinstance(value, dict) else {}


def _parse_authority(raw, errors) -> Authority | None:
    collector = _raw(_raw(raw).get("collector"))
    if not collector:
        errors.append(("plans.authority.collector", "missing"))
        return None
    money = _check_value("money", collector.get("max_concession"),
                         "plans.authority.collector.max_concession", errors)
    count = _check_value("int", collector.get("max_instalments"),
                         "plans.authority.collector.max_instalments", errors)
    if money is None or count is None:
        return None
    return Authority(max_concession=money, max_instalments=count)


def validate_plans_section(section: Any) -> list[tuple[str, str]]:
    """Every problem with a "plans" section, including each stage override ([] = usable)."""
    try:
        parse_plans_section(section)
    except PlanPolicyInvalid as exc:
        return exc.errors
    return []
