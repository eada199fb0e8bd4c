"""The nightly run: accrue, charge, escalate and issue notices, per account and day, once.

Guarantees:
- Idempotent: `AccountNightlyState.last_processed_day` says how far each account got; a
  second run for the same day finds nothing to do. Days missed are caught up one by one, in
  order. Ledger source refs, the consequence unique key and the notice unique key back this
  up in the schema.
- Concurrent runs: on PostgreSQL each batch claims its accounts with SELECT ... FOR UPDATE
  SKIP LOCKED and checks them again once locked (`_claim`), so two processes never claim the
  same account; the claims shrink towards the end (`nightly_share`), so the processes finish
  together; on SQLite the run is simply sequential. Each batch's `nightly.batch` audit
  event goes to a lane of the nightly streams no other batch holds (`audit.services.lane`):
  two processes share no lock.
- Each processed account's closing snapshot is written through its day in its batch
  (`portal.balances.snapshots`), so the next night reads that day's entries only.
- Each batch is one transaction: a crash loses at most the batch in flight, and a re-run
  finishes the job.
- Each account's day is processed once it has ended where its cardholder lives: without
  `as_of`, an account is processed up to the last day that has ended in its cardholder's time
  zone (a payment at 23:30 local counts before that day's interest and fees), so the run is
  meant to start every hour (the job engine's schedule): each time zone's accounts are
  claimed shortly after their midnight and no others are loaded. `as_of` fixes the day.
- Fan-out: `candidate_ranges` cuts the accounts to do into ranges of ids, and
  `run_nightly(first_id=, last_id=)` does one range; the job engine runs ranges on several
  workers (`portal/tasks`). `on_batch(summary)` is called inside each batch's transaction,
  so a caller's record of the counts commits with what they count.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date, timedelta

from sqlalchemy import and_, false, func, insert, or_, select, update

from portal.accounts.models import Account, AccountStatus, Cardholder, LedgerEntry
from portal.audit.services import lane, record_many
from portal.balances import snapshots
from portal.balances.services import today_for
from portal.consequences.engine import AccountDay, run_day
from portal.consequences.models import AccountNightlyState, ConsequenceEvent, Notice, \
    StageChange
from portal.consequences.pauses import pause_checker
from portal.consequences.services import recorded_kinds
from portal.domain.dates import local_date
from portal.extensions import db
from portal.jobs.nightly_load import ledger_figures, load_accounts, start_day
from portal.jobs.nightly_notify import announce_notices, audit_status_changes
from portal.jobs.nightly_share import Candidates, tail_batch
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


def last_ended_day(account: Account, now=None) -> date:
    """The last calendar day that has ended in the account's cardholder's time zone."""
    return today_for(account, now) - timedelta(days=1)


def _due(as_of: date | None):
    """SQL: the account has days left to process (up to `as_of`, or to the last day that has
    ended in its cardholder's time zone). Without `as_of`, one condition per distinct local
    date: zones where the day has not ended yet are not claimed (nor loaded) at all."""
    behind = AccountNightlyState.last_processed_day
    if as_of is not None:
        return or_(behind.is_(None), behind < as_of)
    now = utcnow()
    zones = db.session.scalars(select(Cardholder.timezone).distinct()
                               .join(Account, Account.cardholder_id == Cardholder.id)
                               .where(Account.status.in_(ACTIVE))).all()
    by_day: dict[date, list[str]] = {}
    for zone in zones:
        by_day.setdefault(local_date(now, zone) - timedelta(days=1), []).append(zone)
    return or_(false(), *[and_(Cardholder.timezone.in_(names),
                             or_(behind.is_(None), behind < day))
                        for day, names in by_day.items()])


def _candidates(due, first_id: int | None = None, last_id: int | None = None):
    query = (select(Account.id)
             .outerjoin(AccountNightlyState, AccountNightlyState.account_id == Account.id)
             .join(Cardholder, Cardholder.id == Account.cardholder_id)
             .where(Account.status.in_(ACTIVE), due))
    if first_id is not None:
        query = query.where(Account.id >= first_id)
    if last_id is not None:
        query = query.where(Account.id <= last_id)
    return query


def count_candidates(as_of: date | None = None) -> int:
    return _count(_due(as_of))


def _count(due) -> int:
    return db.session.scalar(select(func.count()).select_from(_candidates(due).subquery()))


def candidate_ranges(as_of: date | None, size: int) -> list[tuple[int, int]]:
    """The accounts with days to process, cut into ranges of ids of at most `size` of them
    (first and last id inclusive, in order): the chunks the job engine fans out, the last
    ones smaller (a quarter of what is left, at least 50: `nightly_share.tail_batch`) so the
    workers taking them one at a time finish together. A count, then one query per range,
    each reading its ids from the primary key."""
    ranges, after, due = [], 0, _due(as_of)
    left = _count(due)
    while True:
        ids = list(db.session.scalars(_candidates(due).where(Account.id > after)
                                      .order_by(Account.id).limit(tail_batch(left, size))))
        if not ids:
            return ranges
        ranges.append((ids[0], ids[-1]))
        after, left = ids[-1], left - len(ids)


def _to_do(due, first_id: int | None, last_id: int | None) -> Candidates:
    """How many accounts are to do and their first and last id (one query, at the start of a
    run that may share the accounts with others): the tail's claims shrink
    (`portal.jobs.nightly_share`), so runs started together finish together."""
    ids = _candidates(due, first_id, last_id).subquery()
    count, first, last = db.session.execute(
        select(func.count(), func.min(ids.c.id), func.max(ids.c.id))).one()
    return Candidates(count, first, last)


def _claim(last_id: int, due, batch_size: int, until_id: int | None,
           skip_locked: bool) -> tuple[int | None, list[int]]:
    """The next batch after `last_id`: (the last id looked at, None when there is none; the
    accounts claimed). On PostgreSQL the rows are locked first, then checked again in a fresh
    statement: the locking statement judged what is due from its own snapshot, so an account
    another run finished while it ran looks due to it; the second look sees that run's commit
    and lets the account go. No account is claimed by two runs."""
    query = _candidates(due, last_id + 1, until_id).order_by(Account.id).limit(batch_size)
    if db.session.get_bind().dialect.name != "postgresql":
        ids = list(db.session.scalars(query))
        return (ids[-1] if ids else None), ids
    locked = list(db.session.scalars(query.with_for_update(of=Account, skip_locked=skip_locked)))
    if not locked:
        return None, []
    still = set(db.session.scalars(_candidates(due).where(Account.id.in_(locked))))
    return locked[-1], [account_id for account_id in locked if account_id in still]


def run_nightly(as_of: date | None = None, *, batch_size: int = 200, progress=None,
                first_id: int | None = None, last_id: int | None = None,
                on_batch=None, skip_locked: bool = True, on_claim=None) -> NightlySummary:
    """Process every active account up to `as_of` (default: the last day that has ended in
    each cardholder's time zone), or only those with ids first_id..last_id.

    Commits once per batch. `on_batch(summary)` is called with each batch's counts before its
    commit (in its transaction); `progress(n)` after it, with the number of accounts.
    On PostgreSQL accounts another transaction holds are skipped (several whole runs share the
    work), or with `skip_locked=False` waited for: a chunk of the job engine owns its range,
    and a row it finds locked belongs to a worker that died mid-batch and whose transaction
    has not been rolled back yet. Each batch reads the accounts' state after claiming them, so
    an account claimed twice is still processed once. Runs that skip locked rows on
    PostgreSQL count the accounts to do first and claim smaller batches as the end nears
    (`portal.jobs.nightly_share`: at most a quarter of what is left, at least 50), so runs
    sharing the work end together. `on_claim(ids)` is told each batch's
    accounts as it claims them (instrumentation: benches and tests count double claims).
    Each processed account's closing snapshot is written through its day, in the batch's
    transaction (`portal.balances.snapshots`).
    """
    summary = NightlySummary()
    policies: dict[tuple[str, date], object] = {}
    after = (first_id - 1) if first_id is not None else 0
    due = _due(as_of)  # once per run: the zones whose day has ended when it starts
    shared = (_to_do(due, first_id, last_id)
              if skip_locked and db.session.get_bind().dialect.name == "postgresql" else None)
    if shared is not None and not shared.count:
        return summary  # nothing due: the count has scanned what the claim would have
    while True:
        size = shared.batch_after(after, batch_size) if shared else batch_size
        last_seen, ids = _claim(after, due, size, last_id, skip_locked)
        if last_seen is None:
            break
        after = last_seen
        if on_claim:
            on_claim(ids)
        if not ids:
            db.session.commit()  # let go of the rows another run has just finished
            continue
        try:
            batch = _process_batch(ids, as_of, policies)
            if on_batch:
                on_batch(batch)
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
        self.closing: dict[int, date] = {}  # account id -> day its snapshot closes through


def _process_batch(ids, as_of, policies) -> NightlySummary:
    summary = NightlySummary(accounts_seen=len(ids))
    accounts, states = load_accounts(ids)
    ends = {a.id: as_of or last_ended_day(a) for a in accounts}
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
    writes.closing = {a.id: ends[a.id] for a in todo}
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
        yield day, policy, run_day(run, policy, day, paused_on(account, day))


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
                currency=account.currency if e.amount else None, waived=e.waived,
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
    # RETURNING makes SQLAlchemy send rows in multi-row INSERTs (insertmanyvalues), not one
    # statement per row: the page-version triggers (migration 0030) then fire once per
    # statement for a whole batch of accounts.
    if writes.ledger:
        session.scalars(insert(LedgerEntry).returning(LedgerEntry.id), writes.ledger).all()
    if writes.events:
        ids = session.scalars(
            insert(ConsequenceEvent).returning(ConsequenceEvent.id, sort_by_parameter_order=True),
            [row for row, _ in writes.events]).all()
        notices = [dict(notice, consequence_event_id=event_id)
                   for event_id, (_, notice) in zip(ids, writes.events) if notice]
        if notices:
            session.scalars(insert(Notice).returning(Notice.id), notices).all()
            announce_notices(notices)
        summary.notices += len(notices)
    if writes.stages:
        session.scalars(insert(StageChange).returning(StageChange.id), writes.stages).all()
    if writes.new_states:
        session.execute(insert(AccountNightlyState), writes.new_states)
    if writes.old_states:
        session.execute(update(AccountNightlyState), writes.old_states)
    if writes.statuses:
        session.execute(update(Account), [{"id": a.id, "status": AccountStatus(new)}
                                          for a, _, new in writes.statuses])
        audit_status_changes(writes.statuses)
    # Snapshots through each account's day: after the batch's first writes (SQLite serialises
    # writers from there), under the claim's row locks (PostgreSQL: portal/balances/snapshots.py)
    # and before the audit record, which takes a lane of the `nightly` streams no other batch
    # holds (`portal.audit.services.lane`), so processes do not queue on one stream's head.
    snapshots.close(writes.closing)
    summary.entries_posted += len(writes.ledger)
    summary.consequences += len(writes.events)
    summary.stage_moves += len(writes.stages)
    if writes.ledger or writes.events or writes.stages:
        # In the batch's transaction: what was posted and its audit entries commit together
        # (one call: the streams are locked once, in order; the batch's own event goes to a
        # lane no other batch holds, taken without waiting).
        record_many(_waivers([row for row, _ in writes.events if row["waived"]]) + [dict(
            action="nightly.batch", subject_type="nightly", actor=("system", "nightly"),
            stream=lane("nightly"),
            after={"entries": len(writes.ledger), "consequences": len(writes.events),
                   "stage_moves": len(writes.stages),
                   "amount": sum(row["amount"] for row in writes.ledger),
                   "digest": posting_digest(writes.ledger)})])


def _waivers(rows: list[dict]) -> list[dict]:
    """An audit event per late fee waived (its day fell in a care freeze): who was not
    charged what, and on which day."""
    return [dict(action="consequences.fee_waived", subject_type="account",
                 subject_id=row["account_id"], actor=("system", "nightly"),
                 after={"kind": row["kind"], "on": row["occurred_on"].isoformat(),
                        "cycle": row["cycle"].isoformat(), "amount": row["amount"],
                        "currency": row["currency"]})
            for row in rows]


def posting_digest(rows: list[dict]) -> str:
    """SHA-256 over the posted entries (account, kind, amount, date, source), in a fixed order:
    `audit verify`-style checks can recompute it from the ledger's nightly entries."""
    lines = sorted(f"{r['account_id']}|{r['kind']}|{r['amount']}|{r['effective_date']}|"
                   f"{r['source_ref']}" for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
