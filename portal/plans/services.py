"""Plan queries, the policy for an account, and the payments interface.

Payments ask `active_plan` and `next_instalment`; `apply_payment` and `reverse_payment` are
what plans do when a payment is posted or reversed (see `portal.plans.listeners`); these add
and flush, never commit. `plan_pause` is the escalation-pause provider (wired by
`portal.wiring`): while an account has an active (kept) plan, escalation is paused.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, or_, select, text

from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import Balance, balance_of, today_for
from portal.consequences.pauses import Pause
from portal.core.reads import shared, sharing
from portal.domain.allocation import allocate_ahead, allocate_to_instalments, due_now
from portal.extensions import db
from portal.plans.models import (
    AGREED_STATUSES, INSTALMENT_MACHINE, PLAN_MACHINE, HardshipStatement, InstalmentStatus, Plan,
    PlanInstalment, PlanStatus,
)
from portal.plans.offers import History, Owed
from portal.plans.rules import PlanPolicy, parse_plans_section
from portal.policy.services import policy_for, policy_version
from portal.staff.account_context import latest


def balance_on(account: Account, today: date, balance: Balance | None = None) -> Balance:
    """`balance` when the caller already read it for this account on `today` (a page reads it
    once and passes it down), else the balance read now. Raises ValueError for a balance of
    another account or day, which would silently decide on the wrong figures."""
    if balance is None:
        return balance_of(account, today)
    if balance.account_id != account.id or balance.as_of != today:
        raise ValueError("balance is of another account or day")
    return balance


def plan_policy(account: Account, today: date, *, version: int | None = None,
                balance: Balance | None = None) -> PlanPolicy:
    """The plan limits in force for the account's profile and current stage on `today`
    (or of a given policy `version`, e.g. the one a plan was made under). `balance`: the
    account's balance on `today` if the caller has it (see `balance_on`)."""
    policy = (policy_version(account.policy_profile, version) if version
              else policy_for(account.policy_profile, today))
    stage = policy.stage_for(balance_on(account, today, balance).days_past_due)
    return parse_plans_section(policy.section("plans"), stage=stage, version=policy.version,
                               profile=account.policy_profile)


_offer_variants: list[Callable[[Account, date], dict | None]] = []


def register_offer_variant(provider: Callable[[Account, date], dict | None]) -> None:
    """Add a source of ready-made offer settings for an account (`counts`,
    `first_due_days`), asked by `offer_policy`; the first that answers wins. Filled by
    portal.wiring (the champion/challenger experiments)."""
    if provider not in _offer_variants:
        _offer_variants.append(provider)


def offer_policy(account: Account, today: date, *, balance: Balance | None = None) -> PlanPolicy:
    """`plan_policy` with the ready-made offers of the account's experiment arm, if any:
    only which offers are shown changes; every limit stays the profile's."""
    policy = plan_policy(account, today, balance=balance)
    for provider in _offer_variants:
        variant = provider(account, today)
        if variant:
            return replace(policy, offer_counts=tuple(variant["counts"]),
                           offer_first_due_days=int(variant["first_due_days"]))
    return policy


def owed_for(account: Account, today: date, balance: Balance | None = None) -> Owed:
    """What the account owes on `today` by component (`balance` as for `plan_policy`)."""
    balance = balance_on(account, today, balance)
    # int(): PostgreSQL sums BIGINT columns as NUMERIC, which arrives as Decimal.
    return Owed(account.currency, int(balance.principal), int(balance.interest),
                int(balance.fees))


def movements_since(account: Account, since: datetime) -> dict[str, int]:
    """What was posted to the account's ledger after `since` (by posting time), in plain
    terms: "paid" (payments less their reversals, positive when money came in), "interest"
    and "fees" added, and "other" (statement changes, adjustments, waivers)."""
    rows = db.session.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount)).where(
        LedgerEntry.account_id == account.id, LedgerEntry.posted_at > since)
        .group_by(LedgerEntry.kind))
    sums = {kind: int(total or 0) for kind, total in rows}
    paid = -(sums.pop(EntryKind.PAYMENT, 0) + sums.pop(EntryKind.REVERSAL, 0))
    interest, fees = sums.pop(EntryKind.INTEREST, 0), sums.pop(EntryKind.FEE, 0)
    return {"paid": paid, "interest": interest, "fees": fees, "other": sum(sums.values())}


def history_for(account: Account, today: date) -> History:
    """Agreed plans started in the last 12 months and the last broken plan's date."""
    year_ago = today - timedelta(days=365)
    count = db.session.scalar(select(func.count(Plan.id)).where(
        Plan.account_id == account.id, Plan.status.in_(AGREED_STATUSES),
        Plan.started_on > year_ago)) or 0
    broken = db.session.scalar(select(func.max(Plan.broken_on)).where(
        Plan.account_id == account.id))
    return History(plans_last_12_months=count, last_broken_on=broken)


def latest_statement(account: Account) -> HardshipStatement | None:
    """The account's newest income-and-expenditure statement not yet attached to a plan: a
    plan proposed later (from an offer or the cardholder's own terms) carries it."""
    return db.session.scalar(select(HardshipStatement).where(
        HardshipStatement.account_id == account.id, HardshipStatement.plan_id.is_(None))
        .order_by(HardshipStatement.id.desc()).limit(1))


def plans_of(account: Account) -> list[Plan]:
    return list(db.session.scalars(select(Plan).where(Plan.account_id == account.id)
                                   .order_by(Plan.id.desc())))


def open_proposal(account: Account) -> Plan | None:
    """A proposal waiting for review or a counter-offer waiting for the cardholder."""
    return db.session.scalar(select(Plan).where(
        Plan.account_id == account.id,
        Plan.status.in_((PlanStatus.IN_REVIEW, PlanStatus.COUNTERED))).limit(1))


def active_plan(account: Account) -> Plan | None:
    """The account's active plan (at most one: a partial unique index guarantees it)."""
    return db.session.scalar(_active_query(), {"account_id": account.id})


@cache  # built once: every posting asks it, plan or not (SQLAlchemy keys it once)
def _active_query():
    return select(Plan).where(Plan.account_id == bindparam("account_id"),
                              Plan.status == PlanStatus.ACTIVE)


def _unpaid(plan: Plan) -> list[PlanInstalment]:
    return [i for i in plan.instalments if i.status != InstalmentStatus.PAID]


def next_instalment(account: Account) -> PlanInstalment | None:
    """The oldest unpaid instalment of the active plan (fields id, plan_id, seq, due_date,
    amount, paid_amount, status), or None."""
    plan = active_plan(account)
    if plan is None:
        return None
    unpaid = _unpaid(plan)
    return unpaid[0] if unpaid else None


# pg_advisory_xact_lock(_PLANS_LOCK, account id); 7262001 is the audit chain's, 7262002 contact's.
_PLANS_LOCK = 7262003


def lock_account_plans(account: Account) -> None:
    """Serialise plan submissions on one account until the transaction ends: a second
    request waits here, then sees the plan or proposal the first one made. A PostgreSQL
    advisory lock rather than a row lock, so the nightly run's SKIP LOCKED claim of account
    rows never passes over an account because a cardholder is submitting a plan. On SQLite
    tests run one request at a time and the database has a single writer anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": _PLANS_LOCK, "key": account.id})


def _locked_active_plan(account: Account) -> Plan | None:
    query = select(Plan).where(Plan.account_id == account.id, Plan.status == PlanStatus.ACTIVE)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def lock_plan(plan: Plan) -> Plan:
    """Re-read the plan under a row lock (FOR UPDATE on PostgreSQL), refreshing the same
    object: two decisions on one plan (a cancel and an approval, say) then run one after the
    other, and the second sees what the first did. Call before checking the plan's status."""
    query = select(Plan).where(Plan.id == plan.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalars(query).one()


def apply_payment(account: Account, amount: int, paid_on: date, *, ahead: bool = False,
                  payment_id: int | None = None) -> list[tuple[int, int]]:
    """Apply a posted payment to the active plan's instalments, oldest first; with `ahead`
    (the cardholder paid extra), only what falls due by `paid_on` oldest first and the rest
    to the last instalments first (`portal.domain.allocation.allocate_ahead`).

    Guarantees: no instalment gets more than it still owes (the row lock on the plan
    serialises payments posted at once); money beyond the plan stays unapplied to the plan
    (it still reduced the ledger balance); a plan whose instalments are all paid becomes
    completed, with its concessions posted as waivers. Returns [(instalment_id, applied)] in
    the order applied; flushes, never commits. No active plan: [].
    """
    plan = _locked_active_plan(account)
    if plan is None or amount <= 0:
        return []
    unpaid = _unpaid(plan)
    by_seq = {i.seq: i for i in unpaid}
    outstanding = [(i.seq, i.still_due) for i in unpaid]
    if ahead:
        due = due_now([(i.due_date, i.still_due) for i in unpaid], paid_on)
        portions, _rest = allocate_ahead(amount, outstanding, due)
    else:
        portions, _rest = allocate_to_instalments(amount, outstanding)
    applied = _take_off(by_seq, portions, paid_on)
    early = [by_seq[seq].id for seq, _part in portions if by_seq[seq].due_date > paid_on]
    record("plan.payment_applied", subject=plan,
           after={"amount": amount, "paid_on": paid_on, "applied": applied,
                  "order": "ahead" if ahead else "oldest_first", "payment_id": payment_id,
                  "paid_ahead": early})
    _complete_when_all_paid(plan, paid_on)
    return applied


def apply_credit(account: Account, amount: int, on: date, *, entry_id: int) -> list[tuple[int, int]]:
    """An upheld dispute credited the account: the active plan asks that much less, taken
    from its LAST instalments first (as a payment ahead beyond what is due now), so what is
    due now and the dates stay as agreed. A plan the credit covers in full completes (its
    concessions are posted as waivers, never more than is still owed). The credit is the
    issuer's, not a payment: nothing of it can be reversed by a refund or a chargeback.
    Returns [(instalment_id, applied)]; flushes, never commits. No active plan: []."""
    plan = _locked_active_plan(account)
    if plan is None or amount <= 0:
        return []
    unpaid = _unpaid(plan)
    by_seq = {i.seq: i for i in unpaid}
    portions, _rest = allocate_ahead(amount, [(i.seq, i.still_due) for i in unpaid], 0)
    applied = _take_off(by_seq, portions, on, credit=True)
    record("plan.credit_applied", subject=plan,
           after={"amount": amount, "on": on, "applied": applied, "ledger_entry": entry_id})
    _complete_when_all_paid(plan, on)
    return applied


def _take_off(by_seq: dict[int, PlanInstalment], portions: list[tuple[int, int]], on: date,
              *, credit: bool = False) -> list[tuple[int, int]]:
    """Add each (seq, portion) to its instalment (a credit's also to `credited_amount`); an
    instalment paid in full is marked paid on `on`. Returns [(instalment_id, portion)]."""
    applied = []
    for seq, portion in portions:
        inst = by_seq[seq]
        inst.paid_amount += portion
        if credit:
            inst.credited_amount = (inst.credited_amount or 0) + portion
        if inst.paid_amount == inst.amount:
            inst.status = INSTALMENT_MACHINE.check(inst.status, InstalmentStatus.PAID)
            inst.paid_on = on
        applied.append((inst.id, portion))
    db.session.flush()
    return applied


def _complete_when_all_paid(plan: Plan, on: date) -> None:
    if not _unpaid(plan):
        # Lazy: portal.plans.endings imports this module (lock_plan, set_status).
        from portal.plans.endings import complete

        complete(plan, on)


def unpaid_instalments(account: Account) -> list[PlanInstalment]:
    """The active plan's instalments not yet paid, oldest first ([] without an active plan)."""
    plan = active_plan(account)
    return _unpaid(plan) if plan is not None else []


def reverse_payment(account: Account, applied: list[tuple[int, int]]) -> None:
    """Undo an application (refund, chargeback): each instalment gets back what was applied
    and is due again (missed when its date has passed). A completed plan goes back to active,
    and its posted concession waivers are reversed, because the agreement was not kept after
    all; if another plan became active meanwhile, the completed plan stays as it is."""
    if not applied:
        return
    today = today_for(account)
    ids = [i for i, _ in applied]
    rows = {i.id: i for i in db.session.scalars(
        select(PlanInstalment).join(Plan).where(PlanInstalment.id.in_(ids),
                                                Plan.account_id == account.id))}
    plans = set()
    for inst_id, amount in applied:
        inst = rows.get(inst_id)
        if inst is None:
            continue
        inst.paid_amount = max(0, inst.paid_amount - amount)
        if inst.status == InstalmentStatus.PAID and inst.paid_amount < inst.amount:
            target = InstalmentStatus.MISSED if inst.due_date < today else InstalmentStatus.DUE
            inst.status = INSTALMENT_MACHINE.check(inst.status, target)
            inst.paid_on = None
            inst.missed_on = today if target == InstalmentStatus.MISSED else None
        plans.add(inst.plan)
    db.session.flush()
    for plan in plans:
        record("plan.payment_reversed", subject=plan, after={"applied": applied})
        if plan.status == PlanStatus.COMPLETED and active_plan(account) is None:
            # Lazy: portal.plans.endings imports this module (lock_plan, set_status).
            from portal.plans.endings import reopen

            reopen(plan, today)


def set_status(plan: Plan, target: PlanStatus, action: str, *, before_audit=None,
               **after) -> None:
    """Move a plan through the transition table (IllegalTransition otherwise) and audit it.
    `before_audit()` is called once the new status is flushed, before the audit event (a
    completion's waivers: the ledger and the nightly state before the account's audit head,
    docs/money.md "Lock order")."""
    before = plan.status
    plan.status = PLAN_MACHINE.check(before, target)
    db.session.flush()
    if before_audit is not None:
        before_audit()
    record(action, subject=plan, before={"status": before.value},
           after={"status": target.value, **after})


def accounts_with_plans(account_ids: list) -> set[int]:
    """Accounts that have ever had an agreed plan: the only ones this provider can pause."""
    if not account_ids:
        return set()
    return set(db.session.scalars(select(Plan.account_id).distinct().where(
        Plan.account_id.in_(account_ids), Plan.started_on.is_not(None))))


def plan_pauses(accounts, as_of: date) -> dict[int, Pause]:
    """`plan_pause` for many accounts in one query. Inside `shared_reads` (a page that shows
    the plan facts too) the query is `plan_facts_for`'s, whose rows hold every active plan."""
    ids = [a.id for a in accounts]
    if not ids:
        return {}
    if sharing():
        rows = [plan for plan, _ in _plan_fact_rows(ids) if plan.status == PlanStatus.ACTIVE
                and plan.started_on is not None and plan.started_on <= as_of]
    else:
        rows = db.session.scalars(select(Plan).where(
            Plan.account_id.in_(ids), Plan.status == PlanStatus.ACTIVE,
            Plan.started_on <= as_of))
    return {p.account_id: Pause(reason="plan", since=p.started_on, reference=str(p.id))
            for p in rows}


def next_instalments_for(accounts) -> dict[int, PlanInstalment]:
    """The oldest unpaid instalment of each account's active plan, keyed by account id
    (accounts without an active plan are absent). One query whatever the number of accounts."""
    ids = [a.id for a in accounts]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Plan.account_id, PlanInstalment).join(Plan, PlanInstalment.plan_id == Plan.id)
        .where(Plan.account_id.in_(ids), Plan.status == PlanStatus.ACTIVE,
               PlanInstalment.status != InstalmentStatus.PAID)
        .order_by(Plan.account_id, PlanInstalment.seq))
    found: dict[int, PlanInstalment] = {}
    for account_id, instalment in rows:
        found.setdefault(account_id, instalment)
    return found


def latest_plans_for(accounts) -> dict[int, Plan]:
    """Each account's most recent plan (proposed, agreed or ended), keyed by account id. One
    query whatever the number of accounts."""
    ids = [a.id for a in accounts]
    if not ids:
        return {}
    newest = (select(func.max(Plan.id)).where(Plan.account_id.in_(ids))
              .group_by(Plan.account_id).scalar_subquery())
    return {p.account_id: p for p in db.session.scalars(select(Plan).where(Plan.id.in_(newest)))}


def _plan_facts_query():
    ids = bindparam("ids", expanding=True)
    newest = (select(func.max(Plan.id)).where(Plan.account_id.in_(ids))
              .group_by(Plan.account_id).scalar_subquery())
    return (select(Plan, PlanInstalment)
            .outerjoin(PlanInstalment, (PlanInstalment.plan_id == Plan.id)
                       & (Plan.status == PlanStatus.ACTIVE)
                       & (PlanInstalment.status != InstalmentStatus.PAID))
            .where(Plan.account_id.in_(ids),
                   or_(Plan.id.in_(newest), Plan.status == PlanStatus.ACTIVE))
            .order_by(Plan.account_id, Plan.id))


_PLAN_FACTS = _plan_facts_query()  # built once: only the account ids change


def _plan_fact_rows(ids: list[int]) -> list:
    """(plan, unpaid instalment or None) rows of `_PLAN_FACTS`, read once per page inside
    `shared_reads`."""
    key = ("plans.facts", tuple(sorted(ids)))
    return shared(key, lambda: list(db.session.execute(_PLAN_FACTS, {"ids": ids})))


def plan_facts_for(accounts) -> tuple[dict[int, Plan], dict[int, PlanInstalment]]:
    """`latest_plans_for` and `next_instalments_for` together, in one query: each account's
    most recent plan, and the oldest unpaid instalment of its active plan (the pages showing
    an account need both)."""
    ids = [a.id for a in accounts]
    if not ids:
        return {}, {}
    rows = _plan_fact_rows(ids)
    latest: dict[int, Plan] = {}
    found: dict[int, PlanInstalment] = {}
    for plan, instalment in rows:
        if plan.account_id not in latest or plan.id > latest[plan.account_id].id:
            latest[plan.account_id] = plan
        if instalment is not None and (plan.account_id not in found
                                       or instalment.seq < found[plan.account_id].seq):
            found[plan.account_id] = instalment
    return latest, found  # the newest plan of each account is among the rows: the highest id


def plan_pause(account, as_of: date) -> Pause | None:
    """Escalation is paused while the account has an active plan that started by `as_of`."""
    plan = db.session.scalar(select(Plan).where(
        Plan.account_id == account.id, Plan.status == PlanStatus.ACTIVE,
        Plan.started_on <= as_of))
    if plan is None:
        return None
    return Pause(reason="plan", since=plan.started_on, reference=str(plan.id))


def staff_context_section(account: Account) -> dict:
    """Plans' part of the staff account context (portal.staff.account_context)."""
    return {"plans": latest(Plan, account.id, Plan.id.desc())}
