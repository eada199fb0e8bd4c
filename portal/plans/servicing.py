"""Changing an agreed plan's schedule: a new payment date, a delayed or a skipped instalment.

`preview` works out the new schedule and the re-issued agreement text (and its hash) without
changing anything; `apply` does it again under a row lock on the plan, checks the hash the
cardholder agreed to, rewrites the unpaid instalments, re-issues the agreement and keeps the
change (with the consent and both texts) as a `PlanRevision`. Limits come from the profile's
"servicing" section in force today and are counted from the revisions recorded, so two tabs
confirming at once apply one change after the other and the second sees the first.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date

from babel.dates import format_date
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from portal.audit.services import record
from portal.domain.schedule import Instalment
from portal.events import PlanRescheduled, emit, plan_rescheduled
from portal.extensions import db
from portal.plans import agreement
from portal.plans.lifecycle import Consent, PlanError, context_for, terms_of
from portal.plans.models import (
    INSTALMENT_MACHINE, InstalmentStatus, Plan, PlanInstalment, PlanRevision, PlanStatus,
)
from portal.plans.offers import Terms
from portal.plans.servicing_rules import (
    NOT_ACTIVE, Counts, Row, ServicingPolicy, ServicingRefused, change_date, delay, skip,
)
from portal.plans.services import lock_plan
from portal.policy.services import UnknownProfile, policy_for


@dataclass(frozen=True)
class Change:
    kind: str                 # date_change | delay | skip
    seq: int | None = None    # the instalment delayed or skipped
    new_date: date | None = None


@dataclass(frozen=True)
class Preview:
    change: Change
    rows: list[Row]
    terms: Terms
    lines: list[str]
    text: str
    hash: str


def servicing_policy(plan: Plan, today: date) -> ServicingPolicy:
    """The "servicing" section in force for the plan's profile today (defaults for what it
    lacks, and for an unknown profile)."""
    try:
        section = policy_for(plan.policy_profile, today).section("servicing")
    except UnknownProfile:
        section = None
    return ServicingPolicy.from_section(section)


def revisions_of(plan: Plan) -> list[PlanRevision]:
    return list(db.session.scalars(select(PlanRevision).where(PlanRevision.plan_id == plan.id)
                                   .order_by(PlanRevision.number)))


def counts_for(revisions: list[PlanRevision]) -> Counts:
    """What the recorded changes have used of the plan's limits."""
    return Counts(date_changes=sum(r.kind == "date_change" for r in revisions),
                  skips=sum(r.kind == "skip" for r in revisions),
                  delayed_keys=frozenset(r.instalment_id for r in revisions if r.kind == "delay"))


def rows_of(plan: Plan) -> list[Row]:
    return [Row(i.id, i.seq, i.due_date, i.amount, i.paid_amount,
                i.status == InstalmentStatus.PAID, i.status == InstalmentStatus.MISSED)
            for i in sorted(plan.instalments, key=lambda i: i.seq)]


def _schedule_json(rows: list[Row]) -> list[dict]:
    return [{"seq": r.seq, "due_date": r.due_date.isoformat(), "amount": r.amount,
             "paid_amount": r.paid_amount} for r in rows]


def _new_rows(plan: Plan, change: Change, today: date, policy: ServicingPolicy,
              counts: Counts) -> list[Row]:
    if plan.status != PlanStatus.ACTIVE:
        raise ServicingRefused(NOT_ACTIVE)
    rows, started = rows_of(plan), plan.started_on or plan.first_date
    if change.kind == "date_change":
        return change_date(rows, change.new_date, frequency=plan.frequency, today=today,
                           started=started, policy=policy, counts=counts)
    if change.kind == "delay":
        return delay(rows, change.seq, change.new_date, today=today, started=started,
                     policy=policy, counts=counts)
    if change.kind == "skip" and plan.kind == "instalment":  # one payment: nothing to skip to
        return skip(rows, change.seq, frequency=plan.frequency, started=started, policy=policy,
                    counts=counts)
    raise ServicingRefused("not_allowed")


def changes_listed(plan: Plan, locale: str) -> list[tuple[PlanRevision, str]]:
    """Each recorded change with its sentence in `locale`, oldest first (the plan pages)."""
    loc = agreement.babel_locale(locale)
    return [(r, change_sentence(Change(r.kind, r.instalment_seq, r.new_date), loc))
            for r in revisions_of(plan)]


def change_sentence(change: Change, loc: str) -> str:
    """What the change does, in the current locale (the agreement and the changes list)."""
    when = format_date(change.new_date, "long", locale=loc) if change.new_date else ""
    if change.kind == "date_change":
        return _("The payments still to come move to start on %(date)s.", date=when)
    if change.kind == "delay":
        return _("Payment %(seq)s is delayed to %(date)s.", seq=change.seq, date=when)
    return _("Payment %(seq)s is skipped and added at the end of the plan.", seq=change.seq)


def preview(plan: Plan, change: Change, today: date, locale: str, *,
            revisions: list[PlanRevision] | None = None) -> Preview:
    """The schedule and agreement `change` would give the plan today; raises
    ServicingRefused with the reason it may not be made. Changes nothing."""
    revisions = revisions_of(plan) if revisions is None else revisions
    rows = _new_rows(plan, change, today, servicing_policy(plan, today), counts_for(revisions))
    terms = replace(terms_of(plan), schedule=tuple(Instalment(r.seq, r.due_date, r.amount)
                                                   for r in rows))
    ctx = context_for(plan.account, plan.policy_version, plan.grace_days)
    lines = agreement.terms_lines(terms, ctx, locale)
    with force_locale(locale):
        lines.append(_("Version %(number)s of this agreement: it replaces the version before.",
                       number=len(revisions) + 2))  # version 1 is the plan as first agreed
        lines.append(change_sentence(change, agreement.babel_locale(locale)))
    text = "\n".join(lines)
    return Preview(change, rows, terms, lines, text,
                   hashlib.sha256(text.encode("utf-8")).hexdigest())


def _rewrite(plan: Plan, rows: list[Row]) -> None:
    by_id = {i.id: i for i in plan.instalments}
    moved = [r for r in rows if by_id[r.key].seq != r.seq]
    for r in moved:  # out of the way first: (plan, seq) is unique
        by_id[r.key].seq = -r.seq
    db.session.flush()
    for r in rows:
        inst = by_id[r.key]
        inst.seq, inst.due_date = r.seq, r.due_date
        if inst.status == InstalmentStatus.MISSED and not r.missed:
            inst.status = INSTALMENT_MACHINE.check(inst.status, InstalmentStatus.DUE)
            inst.missed_on = None
    db.session.flush()
    db.session.expire(plan, ["instalments"])


def apply(plan: Plan, change: Change, consent: Consent, today: date, *,
          actor: tuple[str, int | None]) -> PlanRevision:
    """Make `change` to the plan with the cardholder's `consent` to the re-issued agreement.
    Raises ServicingRefused (limits, status, paid instalment) or PlanError('terms_changed')
    when the agreement shown is not the one the change gives now. Adds and flushes."""
    plan = lock_plan(plan)
    db.session.scalars(select(PlanInstalment).where(PlanInstalment.plan_id == plan.id)
                       .execution_options(populate_existing=True)).all()
    db.session.expire(plan, ["instalments"])
    revisions = revisions_of(plan)
    before = rows_of(plan)
    shown = preview(plan, change, today, consent.locale, revisions=revisions)
    if shown.hash != consent.terms_hash:
        raise PlanError("terms_changed")
    target = next((r.key for r in before if r.seq == change.seq), None)
    revision = PlanRevision(
        plan_id=plan.id, number=len(revisions) + 1, kind=change.kind, instalment_id=target,
        instalment_seq=change.seq, new_date=change.new_date,
        schedule_before=_schedule_json(before), schedule_after=_schedule_json(shown.rows),
        previous_terms_hash=plan.terms_hash, previous_terms_text=plan.terms_text,
        terms_hash=shown.hash, terms_locale=consent.locale, terms_text=shown.text,
        consent_at=consent.at, consent_ip=consent.ip, consent_user_agent=consent.user_agent,
        actor_kind=actor[0], actor_id=actor[1])
    db.session.add(revision)
    _rewrite(plan, shown.rows)
    plan.terms_text, plan.terms_hash, plan.terms_locale = shown.text, shown.hash, consent.locale
    # The plan's name says "from <first payment>"; its cost keeps counting from the day it
    # took the balance over, which plans made before terms_start was stored took from there.
    plan.terms_start = plan.terms_start or plan.first_date
    plan.first_date = next(r.due_date for r in shown.rows if r.seq == 1)
    db.session.flush()
    moved = tuple(r.key for r in shown.rows
                  if r.due_date != next(b.due_date for b in before if b.key == r.key))
    emit(plan_rescheduled, PlanRescheduled(plan.account, plan.id, moved))
    record("plan.schedule_changed", subject=plan, actor=actor,
           before={"schedule": revision.schedule_before, "terms_hash": revision.previous_terms_hash},
           after={"kind": change.kind, "seq": change.seq, "new_date": change.new_date,
                  "revision": revision.number, "schedule": revision.schedule_after,
                  "terms_hash": shown.hash})
    return revision
