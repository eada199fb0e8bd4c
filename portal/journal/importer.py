"""Loading the issuer's account feed: upsert cardholders and accounts, post balance changes.

The ledger is never edited: when the feed's balance for a component differs from what the
ledger holds *in the issuer's figures* on the feed's date, the difference is posted as one entry
(``statement_balance`` when the account is first loaded, ``adjustment`` afterwards). The issuer's
figures are the issuer's own entries and accruals up to the feed's date plus the portal
movements it has applied (`applied_portal_ids`, or the old-feed date rule); portal movements it
has not applied stay on top of its figure and are never undone (docs/money.md). Replaying a
file therefore posts nothing and changes nothing. Rows are committed in batches; each batch
reads what it needs with one query per table.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from portal.journal.feed_io import (
    CSV, FeedReader, RawRow, RejectsWriter, count_lines, default_rejects_path, detect_format,
)
from portal.journal.feed_rules import FeedRow, RowError, validate_row
from portal.accounts.models import Account, Cardholder, Component, EntryKind, LedgerEntry
from portal.audit.services import record_many
from portal.extensions import db
from portal.journal.acks import (
    Pending, acknowledge, in_issuer_figures, named_entries, pending_movements,
)
from portal.journal.rules import movement_id

ACTOR = ("system", "import")
BATCH_SIZE = 500
HOLDER_FIELDS = ("full_name", "date_of_birth", "phone", "email", "locale", "timezone")
ACCOUNT_FIELDS = ("card_last4", "currency", "credit_limit", "policy_profile", "minimum_due",
                  "oldest_unpaid_due_date")

RejectFn = Callable[[RawRow, str], None]


class ImportConflict(Exception):
    """A batch clashed with a concurrent change; it was rolled back and can simply be re-run."""


@dataclass
class ImportResult:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    entries_posted: int = 0
    rejects_path: str | None = None
    # (line, reason) of the first rejects, for messages and tests; the file has them all.
    rejects: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"rows read {self.read}, created {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {self.rejected}, "
                f"ledger entries posted {self.entries_posted}")


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


def import_file(path: str, *, rejects_path: str | None = None, batch_size: int = BATCH_SIZE,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import a CSV or JSON Lines feed file; refused rows go to a rejects file in the same format.

    Raises FeedFileError (nothing loaded) when the file is missing, not UTF-8 or has a wrong
    header. The rejects file is written only when some row is refused.
    """
    fmt = detect_format(path)
    count_lines(path)  # proves the whole file decodes before any row is committed
    reader = FeedReader(path, fmt)
    rejects_path = rejects_path or default_rejects_path(path, fmt)
    writer = None

    def on_reject(row: RawRow, reason: str) -> None:
        nonlocal writer
        if writer is None:
            writer = RejectsWriter(rejects_path, fmt, reader.header if fmt == CSV else None)
        writer.write(row, reason)

    try:
        result = import_rows(reader, on_reject=on_reject, batch_size=batch_size, progress=progress)
    finally:
        if writer is not None:
            writer.close()
    result.rejects_path = rejects_path if writer is not None else None
    return result


def import_rows(rows: Iterable[RawRow], *, on_reject: RejectFn | None = None,
                batch_size: int = BATCH_SIZE,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Validate and load raw rows, committing every `batch_size` valid rows.

    Guarantees: after a successful return each loaded account's ledger sums, per component,
    to the feed's amounts; an unchanged row writes nothing; each created or changed account
    has one audit event; every refused row was passed to `on_reject` with its reason.
    """
    result = ImportResult()

    def reject(raw: RawRow, reason: str) -> None:
        result.rejected += 1
        if len(result.rejects) < 1000:
            result.rejects.append((raw.line, reason))
        if on_reject:
            on_reject(raw, reason)

    batch: list[tuple[RawRow, FeedRow]] = []
    for raw in rows:
        result.read += 1
        if raw.problem:
            reject(raw, f"the row {raw.problem}")
        else:
            try:
                batch.append((raw, validate_row(raw.values)))
            except RowError as exc:
                reject(raw, exc.reason)
        if len(batch) >= batch_size:
            _commit_batch(batch, result, reject)
            batch = []
        if progress:
            progress(raw.line)
    if batch:
        _commit_batch(batch, result, reject)
    return result


def _commit_batch(batch, result: ImportResult, reject: RejectFn) -> None:
    try:
        _apply_batch(batch, result, reject)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ImportConflict(
            f"rows from line {batch[0][0].line} to line {batch[-1][0].line} clashed with a "
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
        problem = _refusal(row, state)
        if problem:
            reject(raw, problem)
            continue
        outcome, posted = _apply_row(row, state)
        result.entries_posted += posted
        setattr(result, outcome, getattr(result, outcome) + 1)
    db.session.flush()  # ids for the audit events' subjects
    record_many([dict(action=action, subject=account, before=before, after=after, actor=ACTOR)
                 for action, account, before, after in state.events])


def _has_entries(number: str, state: _Batch) -> bool:
    return any(state.sums[(number, c.value)][1] for c in Component)


def _refusal(row: FeedRow, state: _Batch) -> str | None:
    account = state.accounts.get(row.account_number)
    if account is None:
        if row.applied_portal_ids:
            return ("applied_portal_ids names portal movements, but the portal has none on an "
                    "account it does not know yet")
        return None
    if account.feed_as_of and row.as_of < account.feed_as_of:
        return (f"as_of {row.as_of.isoformat()} is older than data already loaded for this "
                f"account ({account.feed_as_of.isoformat()})")
    for entry_id in row.applied_portal_ids or ():
        if state.named.get(entry_id) != (row.account_number, True):
            return (f"applied_portal_ids names {movement_id(entry_id)}, which is not a portal "
                    "movement on this account")
    if account.currency != row.currency and _has_entries(row.account_number, state):
        return (f"currency cannot change from {account.currency} to {row.currency} on an "
                "account that already has ledger entries")
    return None


def _update(obj, values: dict, changes: dict, prefix: str = "") -> None:
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[prefix + name] = (old, value)
            setattr(obj, name, value)


def _holder_values(row: FeedRow, holder: Cardholder | None) -> dict:
    values = {name: getattr(row, name) for name in HOLDER_FIELDS}
    if holder is not None and holder.is_enrolled:
        # An enrolled cardholder picks their language in the portal; the feed must not undo it.
        values.pop("locale")
    return values


def _apply_row(row: FeedRow, state: _Batch) -> tuple[str, int]:
    """Apply one valid row; returns ('created' | 'updated' | 'unchanged', entries posted)."""
    changes: dict = {}
    holder = state.holders.get(row.cardholder_id)
    if holder is None:
        holder = Cardholder(customer_id=row.cardholder_id, **_holder_values(row, None))
        db.session.add(holder)
        state.holders[row.cardholder_id] = holder
        changes["cardholder"] = (None, row.cardholder_id)
    else:
        _update(holder, _holder_values(row, holder), changes, "cardholder.")

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

    if created:
        after = {name: value for name, value in account_values.items()}
        after.update(cardholder=row.cardholder_id, ledger=posted)
        state.events.append(("account.feed_created", account, None, after))
        return "created", len(posted)
    if not changes and not posted:
        return "unchanged", 0
    before = {name: old for name, (old, _new) in changes.items()}
    after = {name: new for name, (_old, new) in changes.items()}
    if posted:
        after["ledger"] = posted
    state.events.append(("account.feed_updated", account, before, after))
    return "updated", len(posted)


def _acknowledge(row: FeedRow, account: Account, state: _Batch) -> list[str]:
    """The portal movements the issuer has applied by this row join its figures."""
    done = acknowledge(account.id, state.pending.get(row.account_number, {}),
                       row.applied_portal_ids, row.as_of,
                       current_app.config["JOURNAL_OLD_FEED_LAG_DAYS"])
    for _, component, amount in done:
        state.sums[(row.account_number, component)][0] += amount
    return [movement_id(entry_id) for entry_id, _, _ in done]
