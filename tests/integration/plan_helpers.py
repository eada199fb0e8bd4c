"""Helpers for plan tests: a fixed today, consent and an agreed plan."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from portal.plans import lifecycle
from portal.plans.agreement import terms_hash
from portal.plans.offers import PlanSpec
from tests.clock import TODAY  # 28 November 2026



def spec(**kw) -> PlanSpec:
    base = dict(kind="instalment", count=6, frequency="monthly",
                first_date=TODAY + timedelta(days=7))
    base.update(kw)
    return PlanSpec(**base)


def consent_for(account, plan_spec, today=TODAY, locale="en"):
    decision, policy = lifecycle.evaluate(account, plan_spec, today)
    ctx = lifecycle.context_for(account, policy.version, policy.limits.grace_days)
    return lifecycle.Consent(terms_hash(decision.terms, ctx, locale), locale, "203.0.113.9",
                             "pytest", datetime(2026, 11, 28, 9, tzinfo=timezone.utc))


def agree(account, plan_spec=None, today=TODAY, source="offer"):
    plan_spec = plan_spec or spec()
    return lifecycle.submit(account, plan_spec, consent_for(account, plan_spec, today),
                            source=source, today=today)
