"""The feed import row by row, through the ORM: each row sees every row before it.

The set-based loader (portal/journal/bulk_load.py) does the same work for a whole chunk at
once; this path remains for batches that name one account twice (the second row must see the
first as applied, cardholder and all) and as the reference the differential test holds the
set-based loader to (tests/integration/test_import_differential.py). What the import does and
guarantees is described in portal/journal/importer.py.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from portal.journal.feed_rules import FeedRow
from portal.accounts.models import Account, Cardholder, Component, EntryKind, LedgerEntry
from portal.audit.services import record_many
from portal.events import IssuerFiguresLowered, emit, issuer_figures_lowered
from portal.extensions import db
from portal.journal.acks import (
    Pending, acknowledge, in_issuer_figures, named_entries, pending_movements,
)
from portal.journal.feed_result import (
    ACCOUNT_FIELDS, ACTOR, HOLDER_FIELDS, ImportConflict, ImportResult, RejectFn,
)
from portal.journal.rules import movement_id


@dataclass
class _Batch:
    """What one batch knows about the database, kept current as its rows are applied."""

    accounts: dict[str, Account]
    holders: dict[str, Cardholder]
    # (account_number, component) -> [ledger sum, number of entries]
    sums: dict[tuple[str, str], list[int]]
    # account_number -> portal movements the issuer has not applied yet
    pending: dict[str, Pending] = field(default_factory=dict)
    # ledger entry id named by a row's applied_portal_ids -> (account_number, is a movement)
    named: dict[int, tuple[str, bool]] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    events: list[tuple[str, Account, dict | None, dict]] = field(default_factory=list)
    # accounts whose row lowered what is owed or changed what is overdue (lowers_charges)
    lowered: dict[str, Account] = field(default_factory=dict)


def commit_batch(batch, result: ImportResult, reject: RejectFn) -> None:
    """Apply one batch of validated rows row by row and commit it (the path for batches that
    name an account twice, where each row must see the one before it)."""
    commit_or_conflict(lambda: _apply_batch(batch, result, reject),
                       batch[0][0].line, batch[-1][0].line)


def commit_or_conflict(apply: Callable[[], None], first_line: int, last_line: int) -> None:
    """Run `apply` and commit; roll back on any error, and report a clash with a concurrent
    change (a unique key) as ImportConflict."""
    try:
        apply()
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ImportConflict(
            f"rows from line {first_line} to line {last_line} clashed with a "
            "change made at the same time and were not saved; run the import again "
            "(rows already loaded are skipped)") from exc
    except Exception:
        db.session.rollback()
        raise


def _load_batch(batch) -> _Batch:
    numbers = {row.account_number for _, row in batch}
    customer_ids = {row.cardholder_id for _, row in batch}
    accounts = {a.account_number: a for a in db.session.scalars(
        select(Account).where(Account.account_number.in_(numbers)))}
    holders = {h.customer_id: h for h in db.session.scalars(
        select(Cardholder).where(Cardholder.customer_id.in_(customer_ids)))}
    # The feed states balances as of its date: entries after it (a portal payment, tonight's
    # interest) are not in the issuer's figures and must not be undone by the adjustment.
    as_of: dict[str, object] = {}
    for _, row in batch:
        as_of[row.account_number] = max(row.as_of, as_of.get(row.account_number, row.as_of))
    cutoff = case(as_of, value=Account.account_number)
    # Portal movements count once the issuer has applied them, whatever their date; until
    # then they are not in its figures and the adjustment must leave them alone.
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for number, component, total, count in db.session.execute(
        select(Account.account_number, LedgerEntry.component,
               func.sum(case((in_issuer_figures(cutoff), LedgerEntry.amount), else_=0)),
               func.count(LedgerEntry.id))
        .join(Account, LedgerEntry.account_id == Account.id)
        .where(Account.account_number.in_(numbers))
        .group_by(Account.account_number, LedgerEntry.component)
    ):
        sums[(number, Component(component).value)] = [int(total), int(count)]
    return _Batch(accounts, holders, sums, pending_movements(numbers),
                  named_entries({i for _, row in batch for i in row.applied_portal_ids or ()}))


def _apply_batch(batch, result: ImportResult, reject: RejectFn) -> None:
    state = _load_batch(batch)
    for raw, row in batch:
        problem = refusal(row, state.accounts.get(row.account_number), state.named, state.sums)
        if problem:
            reject(raw, problem)
            continue
        outcome, posted = _apply_row(row, state)
        result.entries_posted += posted
        setattr(result, outcome, getattr(result, outcome) + 1)
    db.session.flush()  # ids for the audit events' subjects
    # Nightly states before audit heads, as a payment's posting locks them (bulk_load.py).
    figures_lowered([account.id for account in state.lowered.values()])
    record_many([dict(action=action, subject=account, before=before, after=after, actor=ACTOR)
                 for action, account, before, after in state.events])


def refusal(row: FeedRow, account, named: dict[int, tuple[str, bool]],
            sums: dict[tuple[str, str], list[int]]) -> str | None:
    """Why a valid row cannot be applied to `account` as it stands (None: a new account), or
    None. `named`: the entries applied_portal_ids names; `sums`: [sum, count] per component."""
    if account is None:
        if row.applied_portal_ids:
            return ("applied_portal_ids names portal movements, but the portal has none on an "
                    "account it does not know yet")
        return None
    if account.feed_as_of and row.as_of < account.feed_as_of:
        return (f"as_of {row.as_of.isoformat()} is older than data already loaded for this "
                f"account ({account.feed_as_of.isoformat()})")
    for entry_id in row.applied_portal_ids or ():
        if named.get(entry_id) != (row.account_number, True):
            return (f"applied_portal_ids names {movement_id(entry_id)}, which is not a portal "
                    "movement on this account")
    if account.currency != row.currency and any(
            sums.get((row.account_number, c.value), (0, 0))[1] for c in Component):
        return (f"currency cannot change from {account.currency} to {row.currency} on an "
                "account that already has ledger entries")
    return None


def _update(obj, values: dict, changes: dict, prefix: str = "") -> None:
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[prefix + name] = (old, value)
            setattr(obj, name, value)


def holder_values(row: FeedRow, enrolled: bool) -> dict:
    """The cardholder's fields as the row gives them, less those the feed must not change."""
    values = {name: getattr(row, name) for name in HOLDER_FIELDS}
    if enrolled:
        # An enrolled cardholder picks their language in the portal; the feed must not undo it.
        values.pop("locale")
    return values


def _apply_row(row: FeedRow, state: _Batch) -> tuple[str, int]:
    """Apply one valid row; returns ('created' | 'updated' | 'unchanged', entries posted)."""
    changes: dict = {}
    holder = state.holders.get(row.cardholder_id)
    if holder is None:
        holder = Cardholder(customer_id=row.cardholder_id, **holder_values(row, False))
        db.session.add(holder)
        state.holders[row.cardholder_id] = holder
        changes["cardholder"] = (None, row.cardholder_id)
    else:
        _update(holder, holder_values(row, holder.is_enrolled), changes, "cardholder.")

    account_values = {name: getattr(row, name) for name in ACCOUNT_FIELDS}
    account_values["feed_as_of"] = row.as_of
    account = state.accounts.get(row.account_number)
    created = account is None
    if created:
        account = Account(account_number=row.account_number, cardholder=holder, **account_values)
        db.session.add(account)
        state.accounts[row.account_number] = account
        state.created.add(row.account_number)
    else:
        if holder.id is None or account.cardholder_id != holder.id:
            # Compared by id: loading every account's cardholder would be one query per row.
            changes["cardholder"] = (account.cardholder.customer_id, row.cardholder_id)
            account.cardholder = holder
        _update(account, account_values, changes)

    first_load = row.account_number in state.created
    applied = [] if first_load else _acknowledge(row, account, state)
    if applied:
        changes["applied_portal_ids"] = (None, applied)
    posted = {}
    for component, amount in row.component_amounts().items():
        running = state.sums[(row.account_number, component)]
        difference = amount - running[0]
        if not difference:
            continue
        running[0], running[1] = amount, running[1] + 1
        db.session.add(LedgerEntry(
            account=account,
            kind=EntryKind.STATEMENT_BALANCE if first_load else EntryKind.ADJUSTMENT,
            component=Component(component), amount=difference, currency=row.currency,
            effective_date=row.as_of,
            # Unique per account: two imports racing to post the same change cannot both win.
            source_ref=f"feed:{row.as_of.isoformat()}:{component}:{running[1]}:{amount}",
        ))
        posted[component] = difference

    outcome, event = outcome_event(row, created, account_values, changes, posted)
    if event:
        state.events.append((event[0], account, *event[1:]))
    if lowers_charges(created, changes, posted):
        state.lowered[row.account_number] = account
    return outcome, len(posted)


def lowers_charges(created: bool, changes: dict, posted: dict) -> bool:
    """The row may lower what the nightly run charged after its date: it lowered a component
    of what is owed, the minimum due, or the days late (a payment at the bank, the issuer's
    credit). Raising any of them cannot (the nightly run's corrections never charge more), so
    a new statement's higher figures send nothing."""
    if created:
        return False
    minimum = changes.get("minimum_due")
    oldest = changes.get("oldest_unpaid_due_date")
    return (any(amount < 0 for amount in posted.values())
            or (minimum is not None and None not in minimum and minimum[1] < minimum[0])
            or (oldest is not None and (oldest[1] is None or (
                oldest[0] is not None and oldest[1] > oldest[0]))))


def figures_lowered(account_ids: list[int]) -> None:
    """Tell the listeners (corrections for the days already charged) once per batch, in its
    transaction, after its rows are written."""
    if account_ids:
        emit(issuer_figures_lowered, IssuerFiguresLowered(tuple(account_ids)))


def outcome_event(row: FeedRow, created: bool, account_values: dict, changes: dict,
                  posted: dict) -> tuple[str, tuple | None]:
    """('created' | 'updated' | 'unchanged', the audit event (action, before, after) or None)
    for a row applied with these changes ((old, new) by field) and postings."""
    if created:
        after = dict(account_values)
        after.update(cardholder=row.cardholder_id, ledger=posted)
        return "created", ("account.feed_created", None, after)
    if not changes and not posted:
        return "unchanged", None
    before = {name: old for name, (old, _new) in changes.items()}
    after = {name: new for name, (_old, new) in changes.items()}
    if posted:
        after["ledger"] = posted
    return "updated", ("account.feed_updated", before, after)


def _acknowledge(row: FeedRow, account: Account, state: _Batch) -> list[str]:
    """The portal movements the issuer has applied by this row join its figures."""
    done = acknowledge(account.id, state.pending.get(row.account_number, {}),
                       row.applied_portal_ids, row.as_of,
                       current_app.config["JOURNAL_OLD_FEED_LAG_DAYS"])
    for _, component, amount in done:
        state.sums[(row.account_number, component)][0] += amount
    return [movement_id(entry_id) for entry_id, _, _ in done]
