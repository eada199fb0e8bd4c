"""Corrections for the past: a movement dated on a day the nightly run already processed.

A payment whose provider success came on day D but whose webhook arrived days later is dated D
(`payments.posting.posting_date`). The nightly runs in between charged as if it had not been
paid: late fee, penalty interest, stage moves. The same holds for a credit (an upheld
dispute, a plan's waiver) posted on a day the nightly run has already walked: the day's
penalty interest was charged on the principal before the credit. And for the issuer's feed:
figures as of day D (a payment at the bank) that arrive after the nightly run walked past D
leave the days after D charged on the figures before. This replays those days with the pure
engine, as the nightly run would have walked them had the movement been in the ledger, and
takes back what would not have been charged: one entry per charge, of the charge's kind and
component, dated on the charged day, referencing the entry it corrects
(`correction:<entry id>:<cause>`, the cause `payment-<payment id>`, `credit-<first ledger
entry id of the credit>` or `feed-<newest ledger entry id>`). Nothing
is ever charged more by a correction. Consequences already acted on (a letter, a credit-bureau
report) stay on record; the stage is set to what the replay reached. All of it is audited.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import and_, bindparam, func, select

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import balance_of
from portal.consequences.models import AccountNightlyState, ConsequenceEvent, StageChange
from portal.consequences.pauses import pause_checker
from portal.domain.allocation import DEFAULT_ORDER, PRINCIPAL, UNAPPLIED, allocate
from portal.events import CreditPosted, IssuerFiguresLowered, PaymentPosted
from portal.extensions import db
from portal.jobs.nightly import account_day, walk
from portal.jobs.nightly_load import ledger_figures
from portal.journal.models import FEED_CAUSE
from portal.policy.services import UnknownProfile, policy_for

NIGHTLY, CORRECTION = "nightly:", "correction:"


def on_payment_posted(event: PaymentPosted) -> None:
    """Listener (in the payment's transaction): correct the days since the payment's date."""
    correct_since(event.account, event.paid_on, reason=f"payment {event.payment_id}",
                  tag=f"payment-{event.payment_id}")


def posting_needs_corrections():
    """SQL for the fast posting path (binds :account_id, :paid_on): the nightly run has walked
    the payment's day, so `on_payment_posted` may correct and the posting takes the general
    path. Locks the nightly state as `correct_since` does (NULL: no state, nothing to do)."""
    return (select(AccountNightlyState.last_processed_day >= bindparam("paid_on"))
            .where(AccountNightlyState.account_id == bindparam("account_id"))
            .with_for_update().scalar_subquery())


def on_credit_posted(event: CreditPosted) -> None:
    """Listener (in the credit's transaction): correct the days since the credit's date."""
    correct_since(event.account, event.value_date, reason=f"{event.source} credit",
                  tag=f"credit-{event.entry_id}")


def on_issuer_figures_lowered(event: IssuerFiguresLowered) -> None:
    """Listener (in the import's transaction): the feed's figures are true as of `feed_as_of`,
    and its adjustment, dated that day, sets the ledger to them up to that day (the nightly
    accruals up to it are part of the issuer's figures). The days after it that the nightly run
    has already walked were charged on the figures before: correct those. The corrections are
    the issuer's own arithmetic, not the portal's movements (`FEED_CAUSE`): they are not sent
    back in the journal, and the next feed's figures include them."""
    # The newest entry keeps each correction's reference unique: read with the accounts.
    newest = (select(func.max(LedgerEntry.id)).where(LedgerEntry.account_id == Account.id)
              .correlate(Account).scalar_subquery())
    walked = db.session.execute(
        select(Account, newest)
        .join(AccountNightlyState, AccountNightlyState.account_id == Account.id)
        .where(Account.id.in_(event.account_ids), Account.feed_as_of.is_not(None),
               AccountNightlyState.last_processed_day > Account.feed_as_of)
        .order_by(Account.id)
        # The bulk import wrote the accounts' new figures without the ORM: read them afresh.
        .execution_options(populate_existing=True)).all()
    for account, newest_id in walked:
        correct_since(account, account.feed_as_of + timedelta(days=1),
                      reason=f"issuer figures as of {account.feed_as_of.isoformat()}",
                      tag=f"{FEED_CAUSE}{newest_id}")  # FEED_CAUSE: not a movement


def correct_since(account: Account, value_date: date, *, reason: str, tag: str) -> int:
    """Take back what the nightly run charged from `value_date` on that the ledger as it now
    stands would not have charged. Returns the minor units taken back. Flushes; the caller
    commits (with the movement that made the correction due)."""
    state = db.session.get(AccountNightlyState, account.id, with_for_update=True)
    if state is None or state.last_processed_day < value_date:
        return 0  # the nightly run has not charged anything for that day yet
    start, end = value_date - timedelta(days=1), state.last_processed_day
    charged = _charged(account, value_date, end)
    if not charged:
        return 0
    try:
        replayed, run = _replay(account, state, start, end)
    except UnknownProfile:
        return 0
    taken = _take_back(account, charged, replayed, tag)
    if run.stage != state.stage:
        _move_stage(account, end, state.stage, run.stage, run.dpd(end))
        state.stage = run.stage
    state.interest_carry = min(state.interest_carry, run.interest_carry)
    if taken:
        record("nightly.corrected", subject=account,
               after={"reason": reason, "from": value_date.isoformat(), "to": end.isoformat(),
                      "taken_back": sum(amount for _, amount in taken),
                      "entries": [entry_id for entry_id, _ in taken]},
               actor=("system", "corrections"))
    db.session.flush()
    return sum(amount for _, amount in taken)


def _move_stage(account: Account, day: date, before: str, after: str, days_late: int) -> None:
    """Record the corrected stage move on `day`. An account moves at most once a day (the
    nightly run, or an earlier correction, may already have moved it that day): that day's
    move then ends where the correction puts it, and a move that ends in the stage it
    started from is no move at all, so it goes."""
    moved = db.session.scalar(select(StageChange).where(StageChange.account_id == account.id,
                                                        StageChange.changed_on == day))
    version = policy_for(account.policy_profile, day).version
    if moved is None:
        db.session.add(StageChange(account_id=account.id, changed_on=day, from_stage=before,
                                   to_stage=after, days_late=days_late, policy_version=version))
    elif moved.from_stage == after:
        db.session.delete(moved)
    else:
        moved.to_stage, moved.days_late, moved.policy_version = after, days_late, version


def _charged(account: Account, first: date, last: date) -> list[tuple[LedgerEntry, int]]:
    """The nightly charges dated first..last with what is not yet corrected of each."""
    entries = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == account.id, LedgerEntry.source_ref.startswith(NIGHTLY),
        LedgerEntry.effective_date.between(first, last)).order_by(LedgerEntry.id)).all()
    corrected = dict(db.session.execute(
        select(LedgerEntry.reversal_of_id, func.sum(LedgerEntry.amount)).where(and_(
            LedgerEntry.account_id == account.id, LedgerEntry.source_ref.startswith(CORRECTION),
            LedgerEntry.reversal_of_id.in_([e.id for e in entries])))
        .group_by(LedgerEntry.reversal_of_id)).all()) if entries else {}
    return [(e, e.amount + int(corrected.get(e.id, 0))) for e in entries
            if e.amount + int(corrected.get(e.id, 0)) > 0]


def _replay(account: Account, state: AccountNightlyState, start: date, end: date):
    """What the nightly run posts for start+1..end from the ledger as it now stands: the
    day-by-day walk of `portal.jobs.nightly`, its own earlier postings for those days left out.
    Returns ({(day, kind): amount}, the engine's state at the end)."""
    openings, deltas = ledger_figures({account.id: start}, {account.id: account.feed_as_of}, end,
                                      leave_out_after_start=(NIGHTLY, CORRECTION))
    recorded = {kind for kind, in db.session.execute(select(ConsequenceEvent.kind).where(
        ConsequenceEvent.account_id == account.id,
        ConsequenceEvent.cycle == account.oldest_unpaid_due_date,
        ConsequenceEvent.occurred_on <= start))}
    run = account_day(account, openings.get(account.id), recorded)
    run.stage = policy_for(account.policy_profile, start).stage_for(run.dpd(start))
    replayed: dict[tuple[date, str], int] = defaultdict(int)
    for day, _policy, outcome in walk(run, account, start, end, deltas.get(account.id, {}),
                                      policy_for, pause_checker([account])):
        for posting in outcome.postings:
            replayed[(day, posting.kind)] += posting.amount
    return replayed, run


def _take_back(account: Account, charged, replayed, tag: str) -> list[tuple[int, int]]:
    """Correction entries for what was charged beyond the replay, per day and kind.

    A charge that a payment has already paid leaves its component nothing to give back: the
    payment's money then pays what comes next in the allocation order (principal last), as it
    would have had the charge never been made, so no component ever goes below zero except
    principal (money the cardholder is owed). Such a part is its own entry,
    `correction:<entry id>.<component>:<cause>`, referencing the same charge."""
    allowance = _Allowance(replayed)
    owed = _component_balances(account)
    taken = []
    for entry, still in sorted(charged, key=lambda pair: (pair[0].effective_date, pair[0].id)):
        excess = still - allowance.keep(entry.effective_date, entry.kind.value, still)
        if excess <= 0:
            continue
        for component, amount in _parts(excess, entry.component.value, owed).items():
            owed[component] -= amount
            suffix = "" if component == entry.component.value else f".{component}"
            db.session.add(LedgerEntry(account_id=account.id, kind=entry.kind,
                                       component=Component(component), amount=-amount,
                                       currency=entry.currency,
                                       effective_date=entry.effective_date,
                                       source_ref=f"{CORRECTION}{entry.id}{suffix}:{tag}",
                                       reversal_of_id=entry.id))
        taken.append((entry.id, excess))
    return taken


class _Allowance:
    """What the replay allows the charges to keep, asked day by day in date order.

    A fee, a stage's charge: what the replay charged that day and kind. Interest: what the
    replay accrued up to that day less what was kept before it, so that the interest kept up to
    any day is at most what the replay accrued up to it. Both walks post whole units and carry
    the fraction, but the replay starts with no carry (the nightly state keeps only today's),
    so its units can fall a day apart from the run's (335, 336, 335 against 336, 335, 336 for
    335.5 a day): compared day by day, each day the run posted the unit first gave it back and
    none took it again, and a late feed ended a unit lower for about every two days it was late.
    A day on which the replay charges no interest (nothing owed on it, or paid) keeps none, and
    what earlier days left unused does not pass it: no interest is kept for a paid day."""

    def __init__(self, replayed: dict[tuple[date, str], int]) -> None:
        self._left = dict(replayed)
        self._interest = sorted((day, amount) for (day, kind), amount in replayed.items()
                                if kind == EntryKind.INTEREST.value)
        self._spare = 0  # interest accrued by the replay on earlier days and not yet kept
        self._upto = date.min  # the replay's interest is in `_spare` up to this day

    def keep(self, day: date, kind: str, still: int) -> int:
        """How much of a charge of `still` dated `day` of `kind` stays."""
        if kind != EntryKind.INTEREST.value:
            keep = min(still, self._left.get((day, kind), 0))
            self._left[(day, kind)] = self._left.get((day, kind), 0) - keep
            return keep
        if day > self._upto:
            self._roll(day)
        keep = min(still, self._spare)
        self._spare -= keep
        return keep

    def _roll(self, day: date) -> None:
        # Days after `_upto` up to `day`: each adds what the replay accrued on it; a day with
        # none (a gap in the replay's days, or an amount of 0) clears what is spare.
        expected = self._upto + timedelta(days=1) if self._upto != date.min else None
        while self._interest and self._interest[0][0] <= day:
            accrued_on, amount = self._interest.pop(0)
            if expected is not None and accrued_on != expected:
                self._spare = 0  # days without interest in the replay in between
            self._spare = self._spare + amount if amount > 0 else 0
            expected = accrued_on + timedelta(days=1)
        if expected is None or expected <= day:
            self._spare = 0  # `day` itself (or the days before it) accrued nothing
        self._upto = day


def _component_balances(account: Account) -> dict[str, int]:
    """What the ledger holds of each component now, entries dated ahead included."""
    balance = balance_of(account, as_of=date.max)
    return {Component.PRINCIPAL.value: balance.principal,
            Component.INTEREST.value: balance.interest, Component.FEE.value: balance.fees}


def _parts(excess: int, component: str, owed: dict[str, int]) -> dict[str, int]:
    """How `excess` taken back from a charge on `component` is split: that component first, as
    far as it is still owed, then the components after it in the allocation order; what is
    left lowers principal."""
    order = DEFAULT_ORDER[DEFAULT_ORDER.index(component):]
    split = allocate(excess, {c: max(0, owed[c]) for c in order}, order)
    split[PRINCIPAL] = split.get(PRINCIPAL, 0) + split.pop(UNAPPLIED)
    return {c: amount for c, amount in split.items() if amount}
