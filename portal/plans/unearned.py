"""Interest a reduced-rate plan posted up front but had not earned when it ended.

`_activate` posts the whole of a reduced-rate plan's interest (`interest_added`) on the day the
plan starts, because the agreed total includes it. That interest is the price of time: of
carrying the declining principal from the start to each due date. A plan cancelled or broken
before its last due date has not used that time, and the account's own interest accrues again
from then on, so keeping all of it would charge the same days twice. The part not yet earned
is given back as a reversal entry that points at the original interest entry (never an edit).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.domain.money import round_half_up
from portal.domain.schedule import Frequency, build_schedule
from portal.extensions import db
from portal.plans.models import Plan


def _principal_days(plan: Plan, until: date | None) -> int:
    """Sum of outstanding principal x days from the start to each due date (capped at
    `until`): the weight the plan's interest was charged on (rate and day count cancel out)."""
    principal = build_schedule(plan.total - plan.interest_added, plan.instalment_count,
                               Frequency(plan.frequency), plan.first_date,
                               down_payment=plan.down_payment)
    outstanding, weight, previous = sum(i.amount for i in principal), 0, plan.started_on
    for inst in principal:
        end = inst.due_date if until is None else min(inst.due_date, until)
        weight += outstanding * max((end - previous).days, 0)
        if until is not None and inst.due_date >= until:
            break
        outstanding -= inst.amount
        previous = inst.due_date
    return weight


def unearned_interest(plan: Plan, until: date) -> int:
    """The share of the plan's up-front interest for the days after `until`, rounded once."""
    if not plan.interest_added or plan.started_on is None:
        return 0
    full = _principal_days(plan, None)
    if full <= 0:
        return 0
    earned = Decimal(plan.interest_added) * Decimal(_principal_days(plan, until)) / Decimal(full)
    return max(0, plan.interest_added - round_half_up(earned))


def reverse_unearned_interest(plan: Plan, today: date) -> int:
    """When a plan ends early (cancelled or broken), post a reversal of the up-front interest
    not yet earned on `today`; returns the amount (0 if none, or already reversed). Flushes."""
    original = db.session.scalar(select(LedgerEntry).where(
        LedgerEntry.account_id == plan.account_id, LedgerEntry.source_ref == f"plan:{plan.id}:interest"))
    source = f"plan:{plan.id}:interest-unearned"
    if original is None or db.session.scalar(select(LedgerEntry.id).where(
            LedgerEntry.account_id == plan.account_id, LedgerEntry.source_ref == source)):
        return 0
    amount = min(unearned_interest(plan, today), original.amount)
    if amount <= 0:
        return 0
    db.session.add(LedgerEntry(
        account_id=plan.account_id, kind=EntryKind.REVERSAL, component=Component.INTEREST,
        amount=-amount, currency=plan.currency, effective_date=today, source_ref=source,
        reversal_of_id=original.id))
    db.session.flush()
    record("plan.unearned_interest_reversed", subject=plan,
           after={"amount": amount, "interest_added": plan.interest_added, "on": today})
    return amount
