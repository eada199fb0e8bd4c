"""Builders for collections tests: assignments at a given moment, plans, payments and
complaints with hand-chosen dates, so every KPI can be checked against numbers worked out by
hand."""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.collections.models import AccountAssignment
from portal.disputes.models import Dispute, DisputeQueue
from portal.extensions import db
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus

_seq = itertools.count(1)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def hold(account, collector, since: datetime, until: datetime | None = None, by=None):
    """An assignment row as it would be after assign() (and a later reassignment)."""
    row = AccountAssignment(account_id=account.id, collector_id=collector.id,
                            assigned_by_id=(by or collector).id, assigned_at=since,
                            ended_at=until, ended_by_id=(by or collector).id if until else None)
    db.session.add(row)
    db.session.commit()
    return row


def make_plan(account, status="active", *, kind="instalment", total=120_000, created=None,
              started_on=None, decided_by=None, decided_at=None, reason=None, missed=False,
              profile=None, currency=None):
    """A plan row with two instalments (the first missed when `missed`)."""
    created = created or at(started_on or date(2026, 11, 2))
    plan = Plan(account_id=account.id, status=PlanStatus(status), source="proposal", kind=kind,
                currency=currency or account.currency, instalment_count=2, frequency="monthly",
                first_date=(started_on or created.date()) + timedelta(days=7),
                balance_at_start=total, total=total,
                policy_profile=profile or account.policy_profile, policy_version=1, stage="M1",
                grace_days=5, created_at=created, started_on=started_on,
                decided_by_id=decided_by.id if decided_by else None, decided_at=decided_at,
                decision_reason=reason)
    db.session.add(plan)
    db.session.flush()
    first = plan.first_date
    for seq, due in ((1, first), (2, first + timedelta(days=30))):
        db.session.add(PlanInstalment(
            plan_id=plan.id, seq=seq, due_date=due, amount=total // 2,
            status=InstalmentStatus.MISSED if (missed and seq == 1) else InstalmentStatus.DUE))
    db.session.commit()
    return plan


def pay(account, amount: int, day: date):
    """A payment posted to the ledger on `day` (the sign convention of the ledger: negative)."""
    entry = LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                        component=Component.PRINCIPAL, amount=-amount, currency=account.currency,
                        effective_date=day, source_ref=f"test-payment:{next(_seq)}")
    db.session.add(entry)
    db.session.commit()
    return entry


def refund(entry: LedgerEntry, day: date, amount: int | None = None):
    """A reversal of (part of) a posted payment."""
    back = LedgerEntry(account_id=entry.account_id, kind=EntryKind.REVERSAL,
                       component=entry.component, amount=amount or -entry.amount,
                       currency=entry.currency, effective_date=day, reversal_of_id=entry.id,
                       source_ref=f"test-refund:{next(_seq)}")
    db.session.add(back)
    db.session.commit()
    return back


def complaint(account, when: datetime, category="conduct_complaint"):
    queue = db.session.scalar(select(DisputeQueue).where(DisputeQueue.code == "conduct-test"))
    if queue is None:
        queue = DisputeQueue(code="conduct-test", managers_only=True)
        db.session.add(queue)
        db.session.flush()
    dispute = Dispute(account_id=account.id, cardholder_id=account.cardholder_id,
                      category=category, currency=account.currency,
                      description="They called me at night.", language="en", queue_id=queue.id,
                      acknowledge_by=when + timedelta(days=4), resolve_by=when + timedelta(days=10),
                      created_at=when)
    db.session.add(dispute)
    db.session.commit()
    return dispute
