"""The nightly run: accrue, charge, escalate and issue notices, per account and day, once.

Guarantees:
- Idempotent: `AccountNightlyState.last_processed_day` says how far each account got; a
  second run for the same day finds nothing to do. Days missed are caught up one by one, in
  order. Ledger source refs, the consequence unique key and the notice unique key back this
  up in the schema.
- Concurrent runs: on PostgreSQL each batch claims its accounts with SELECT ... FOR UPDATE
  SKIP LOCKED, so two processes never work on the same account at once; on SQLite the run is
  simply sequential.
- Each batch is one transaction: a crash loses at most the batch in flight, and a re-run
  finishes the job.
- "Today" (the default `as_of`) is the calendar day in each cardholder's time zone, so the
  run is meant to start shortly after midnight where the cardholders live; `--as-of` fixes it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date, timedelta

from sqlalchemy import func, insert, or_, select, update

from portal.accounts.models import Account, AccountStatus, LedgerEntry
from portal.audit.services import record
from portal.balances.services import today_for
from portal.consequences.engine import AccountDay, run_day
from portal.consequences.models import AccountNightlyState, ConsequenceEvent, Notice, \
    StageChange
from portal.consequences.pauses import pause_checker
from portal.consequences.services import recorded_kinds
from portal.extensions import db
from portal.jobs.nightly_load import ledger_figures, load_accounts, start_day
from portal.jobs.nightly_notify import announce_notices, audit_status_changes
from portal.policy.services import UnknownProfile, policy_for
from portal.timeutil import utcnow

ACTIVE = (AccountStatus.OPEN, AccountStatus.BLOCKED)


@dataclass
class NightlySummary:
    accounts_seen: int = 0
    accounts_processed: int = 0
    days: int = 0
    entries_posted: int = 0
    stage_moves: int = 0
    consequences: int = 0
    notices: int = 0
    skipped: int = 0  # accounts whose policy profile is unknown

    def add(self, other: NightlySummary) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        return (f"accounts seen: {self.accounts_seen}, processed: {self.accounts_processed}, "
                f"days: {self.days}, entries posted: {self.entries_posted}, "
                f"stage moves: {self.stage_moves}, consequences: {self.consequences}, "
                f"notices: {self.notices}, skipped: {self.skipped}")


def count_candidates() -> int:
    return db.session.scalar(select(func.count(Account.id)).where(Account.status.in_(ACTIVE)))


def _claim(last_id: int, cutoff: date, batch_size: int) -> list[int]:
    query = (
        select(Account.id)
        .outerjoin(AccountNightlyState, AccountNightlyState.account_id == Account.id)
        .where(Account.id > last_id, Account.status.in_(ACTIVE),
               or_(AccountNightlyState.last_processed_day.is_(None),
                   AccountNightlyState.last_processed_day < cutoff))
        .order_by(Account.id).limit(batch_size))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Account, skip_locked=True)
    return list(db.session.scalars(query))


def run_nightly(as_of: date | None = None, *, batch_size: int = 200,
                progress=None) -> NightlySummary:
    """Process every active account up to `as_of` (default: each cardholder's today).

    Commits once per batch. `progress(n)` is called with the number of accounts per batch.
    """
    summary = NightlySummary()
    # Without --as-of no local date is later than UTC+14's, i.e. tomorrow in UTC.
    cutoff = as_of or (utcnow().date() + timedelta(days=1))
    policies: dict[tuple[str, date], object] = {}
    last_id = 0
    while True:
        ids = _claim(last_id, cutoff, batch_size)
        if not ids:
            break
        last_id = ids[-1]
        try:
            batch = _process_batch(ids, as_of, policies)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        summary.add(batch)
        if progress:
            progress(len(ids))
    return summary


def _policy(policies, profile: str, day: date):
    key = (profile, day)
    if key not in policies:
        policies[key] = policy_for(profile, day)
    return policies[key]


class _Writes:
    def __init__(self):
        self.ledger, self.events, self.notices, self.stages = [], [], [], []
        self.new_states, self.old_states, self.statuses = [], [], []


def _process_batch(ids, as_of, policies) -> NightlySummary:
    summary = NightlySummary(accounts_seen=len(ids))
    accounts, states = load_accounts(ids)
    ends = {a.id: as_of or today_for(a) for a in accounts}
    starts = {a.id: start_day(a, states.get(a.id), ends[a.id]) for a in accounts}
    todo = [a for a in accounts if starts[a.id] < ends[a.id]]
    if not todo:
        return summary
    openings, deltas = ledger_figures({a.id: starts[a.id] for a in todo},
                                      {a.id: a.feed_as_of for a in todo}, max(ends.values()))
    recorded = recorded_kinds(todo)
    paused_on = pause_checker(todo)
    writes = _Writes()
    for account in todo:
        try:
            _walk(account, states.get(account.id), starts[account.id], ends[account.id],
                  openings.get(account.id), deltas.get(account.id, {}),
                  recorded[account.id], policies, paused_on, writes, summary)
        except UnknownProfile:
            summary.skipped += 1
    _write(writes, summary)
    return summary


def account_day(account, opening, recorded, *, carry: int = 0) -> AccountDay:
    """The engine's running figures for `account` from its ledger sums as of the start day."""
    run = AccountDay(account.id, account.currency, account.minimum_due,
                     account.oldest_unpaid_due_date, account.feed_as_of,
                     status=account.status.value, recorded=set(recorded), interest_carry=carry)
    if opening:
        run.apply(*opening)
    return run


def walk(run: AccountDay, account, start: date, end: date, deltas, policy_on, paused_on):
    """Walk `run` through start+1..end as the nightly run does: each day's other ledger
    movements (`deltas`), then the engine. Yields (day, policy, outcome)."""
    day = start
    while day < end:
        day += timedelta(days=1)
        if day in deltas:
            run.apply(*deltas[day])
        policy = policy_on(account.policy_profile, day)
        yield day, policy, run_day(run, policy, day, paused_on(account, day) is not None)


def _walk(account, state_row, start, end, opening, deltas, recorded, policies, paused_on, writes,
          summary):
    run = account_day(account, opening, recorded,
                      carry=state_row.interest_carry if state_row else 0)
    first_policy = _policy(policies, account.policy_profile, start)
    run.stage = state_row.stage if state_row else first_policy.stage_for(run.dpd(start))
    status_before = run.status
    for day, policy, outcome in walk(run, account, start, end, deltas,
                                     lambda profile, on: _policy(policies, profile, on),
                                     paused_on):
        summary.days += 1
        for p in outcome.postings:
            writes.ledger.append(dict(account_id=account.id, kind=p.kind, component=p.component,
                                      amount=p.amount, currency=account.currency,
                                      effective_date=day, source_ref=p.source_ref))
        if outcome.stage_move:
            writes.stages.append(dict(account_id=account.id, changed_on=day,
                                      from_stage=outcome.stage_move[0],
                                      to_stage=outcome.stage_move[1], days_late=outcome.dpd,
                                      policy_version=policy.version))
        for e in outcome.events:
            writes.events.append((dict(
                account_id=account.id, kind=e.kind, cycle=run.cycle, occurred_on=day,
                days_late=e.days_late, amount=e.amount,
                currency=account.currency if e.amount else None,
                policy_profile=policy.profile, policy_version=policy.version),
                _notice_row(account, policy, outcome.notice, day) if e.kind == "formal_notice"
                and outcome.notice else None))
    summary.accounts_processed += 1
    row = dict(account_id=account.id, last_processed_day=end, stage=run.stage,
               interest_carry=run.interest_carry, updated_at=utcnow())
    (writes.old_states if state_row else writes.new_states).append(row)
    if run.status != status_before:
        writes.statuses.append((account, status_before, run.status))


def _notice_row(account, policy, due, day):
    return dict(account_id=account.id, kind=due.kind, issued_on=day, amount=due.amount,
                currency=account.currency, pay_by=due.pay_by,
                locale=account.cardholder.locale or "en", days_late=due.days_late,
                reference=f"{policy.profile.upper()}-{account.id:08d}-{day:%Y%m%d}",
                policy_profile=policy.profile, policy_version=policy.version)


def _write(writes: _Writes, summary: NightlySummary) -> None:
    session = db.session
    if writes.ledger:
        session.execute(insert(LedgerEntry), writes.ledger)
    if writes.events:
        ids = session.scalars(
            insert(ConsequenceEvent).returning(ConsequenceEvent.id, sort_by_parameter_order=True),
            [row for row, _ in writes.events]).all()
        notices = [dict(notice, consequence_event_id=event_id)
                   for event_id, (_, notice) in zip(ids, writes.events) if notice]
        if notices:
            session.execute(insert(Notice), notices)
            announce_notices(notices)
        summary.notices += len(notices)
    if writes.stages:
        session.execute(insert(StageChange), writes.stages)
    if writes.new_states:
        session.execute(insert(AccountNightlyState), writes.new_states)
    if writes.old_states:
        session.execute(update(AccountNightlyState), writes.old_states)
    if writes.statuses:
        session.execute(update(Account), [{"id": a.id, "status": AccountStatus(new)}
                                          for a, _, new in writes.statuses])
        audit_status_changes(writes.statuses)
    summary.entries_posted += len(writes.ledger)
    summary.consequences += len(writes.events)
    summary.stage_moves += len(writes.stages)
    if writes.ledger or writes.events or writes.stages:
        # In the batch's transaction: what was posted and its audit entry commit together.
        record("nightly.batch", subject_type="nightly", actor=("system", "nightly"),
               after={"entries": len(writes.ledger), "consequences": len(writes.events),
                      "stage_moves": len(writes.stages),
                      "amount": sum(row["amount"] for row in writes.ledger),
                      "digest": posting_digest(writes.ledger)})


def posting_digest(rows: list[dict]) -> str:
    """SHA-256 over the posted entries (account, kind, amount, date, source), in a fixed order:
    `audit verify`-style checks can recompute it from the ledger's nightly entries."""
    lines = sorted(f"{r['account_id']}|{r['kind']}|{r['amount']}|{r['effective_date']}|"
                   f"{r['source_ref']}" for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
