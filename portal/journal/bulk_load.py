"""The feed import set-based: a chunk of validated rows, each naming a different account,
loaded with a fixed number of statements whatever its size.

The chunk's account numbers, cardholder ids and feed dates are staged in a temporary table;
accounts, cardholders, ledger sums in the issuer's figures, pending portal movements and the
entries applied_portal_ids names are read with one statement each. The rows are then applied
in file order in memory, exactly as the row-by-row path (portal/journal/rowwise.py) applies
them (a cardholder named by several rows sees each change before the next), and what changed
is written in bulk (portal/bulk.py): new rows with COPY on PostgreSQL, changed rows from a
staged copy, one audit event per created or changed account (`audit.draft_bulk`, drafted while
the ledger entries are inserted by a helper thread, `portal.bulk.inserted_behind`, then
`append_bulk`). The caller commits the chunk as one transaction.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import ARRAY, Column, Date, MetaData, String, Table, any_, case, cast, func, select

from portal.accounts.locks import lock_accounts_money
from portal.accounts.models import (
    Account, AccountStatus, Cardholder, EntryKind, LedgerEntry,
)
from portal.audit.services import Drafted, append_bulk, draft_bulk, stream_for
from portal.bulk import (
    allocate_ids, fetch_all, inserted_behind, insert_rows, is_postgres, settle_in, stage_table,
    update_rows,
)
from portal.extensions import db
from portal.journal.acks import choose, in_issuer_figures, named_entries, pending_movements
from portal.journal.feed_result import ACCOUNT_FIELDS, ACTOR, HOLDER_FIELDS, ImportResult
from portal.journal.feed_rules import FeedRow
from portal.journal.models import JournalAck
from portal.journal.replay import remember
from portal.journal.rowwise import (
    figures_lowered, holder_values, lowers_charges, outcome_event, refusal,
)
from portal.journal.rules import movement_id
from portal.timeutil import utcnow

_STAGE = Table("feed_stage", MetaData(), Column("account_number", String(32)),
               Column("cardholder_id", String(64)), Column("as_of", Date))
_STAGE_COLUMNS = [("account_number", "VARCHAR(32)"), ("cardholder_id", "VARCHAR(64)"),
                  ("as_of", "DATE")]


@dataclass
class _Holder:
    id: int | None  # None for a cardholder this chunk creates, until ids are taken
    values: dict
    enrolled: bool = False
    new: bool = False
    original: dict = field(default_factory=dict)  # as stored, for the net change

    @property
    def changed(self) -> bool:
        # Like the ORM, which writes (and stamps updated_at) only what differs in the end: a
        # field one row changes and a later row changes back is not an update.
        return not self.new and self.values != self.original


@dataclass
class _Account:
    id: int | None
    holder: _Holder
    holder_id: int | None  # the cardholder id as stored (None: not stored yet)
    customer_id: str
    values: dict  # ACCOUNT_FIELDS and feed_as_of
    new: bool = False
    changed: bool = False

    @property
    def feed_as_of(self) -> date | None:
        return self.values["feed_as_of"]

    @property
    def currency(self) -> str:
        return self.values["currency"]


@dataclass
class _Chunk:
    accounts: dict[str, _Account]
    holders: dict[str, _Holder]
    sums: dict[tuple[str, str], list[int]]
    pending: dict
    named: dict[int, tuple[str, bool]]
    entries: list = field(default_factory=list)  # (account, kind, component, amount, row)
    acks: list = field(default_factory=list)  # (entry id, account, as_of, source)
    events: list = field(default_factory=list)  # (action, account, before, after)
    lowered: dict = field(default_factory=dict)  # account number -> account (lowers_charges)
    given: dict = field(default_factory=dict)  # account number -> its row's cardholder values


def known_contacts(customer_ids: set[str]) -> dict[str, frozenset[str]]:
    """The phones and emails the portal stores for these cardholders, for validate_row: a
    replayed feed's contact details need not be checked again."""
    ids = sorted(customer_ids)
    phones, emails = set(), set()
    query = select(Cardholder.phone, Cardholder.email)
    for start in range(0, len(ids), 5000):
        part = ids[start:start + 5000]
        # One array parameter on PostgreSQL: thousands of IN parameters cost more to send.
        where = (Cardholder.customer_id == any_(cast(part, ARRAY(String(64))))
                 if is_postgres() else Cardholder.customer_id.in_(part))
        for phone, email in fetch_all(query.where(where)):
            phones.add(phone)
            emails.add(email)
    return {"phone": frozenset(phones - {None}), "email": frozenset(emails - {None})}


def _load(rows: list[FeedRow]) -> _Chunk:
    stage_table(_STAGE.name, _STAGE_COLUMNS,
                [(r.account_number, r.cardholder_id, r.as_of) for r in rows])
    numbers = select(_STAGE.c.account_number)
    # Plain rows from the driver: SQLAlchemy's row handling would cost more than the queries.
    holders = {}
    for holder_id, customer_id, enrolled, *values in fetch_all(
            select(Cardholder.id, Cardholder.customer_id, Cardholder.password_hash.is_not(None),
                   *(getattr(Cardholder, f) for f in HOLDER_FIELDS))
            .where(Cardholder.customer_id.in_(select(_STAGE.c.cardholder_id)))):
        stored = dict(zip(HOLDER_FIELDS, values))
        holders[customer_id] = _Holder(holder_id, stored, enrolled, original=dict(stored))
    names = (*ACCOUNT_FIELDS, "feed_as_of")
    accounts = {}
    for account_id, number, holder_id, customer_id, *values in fetch_all(
            select(Account.id, Account.account_number, Account.cardholder_id,
                   Cardholder.customer_id, *(getattr(Account, f) for f in names))
            .join(Cardholder, Account.cardholder_id == Cardholder.id)
            .where(Account.account_number.in_(numbers))):
        # The account's current cardholder is compared by id; its own record is only needed
        # when a row names it (then it is in `holders`).
        holder = holders.get(customer_id) or _Holder(holder_id, {})
        accounts[number] = _Account(account_id, holder, holder_id, customer_id,
                                    dict(zip(names, values)))
    # The feed states balances as of its date: entries after it are not in the issuer's
    # figures (see rowwise._load_batch, which this mirrors with the staged dates).
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for number, component, total, count in fetch_all(
            select(Account.account_number, LedgerEntry.component,
                   func.sum(case((in_issuer_figures(_STAGE.c.as_of), LedgerEntry.amount),
                                 else_=0)),
                   func.count(LedgerEntry.id))
            .select_from(LedgerEntry)
            .join(Account, LedgerEntry.account_id == Account.id)
            .join(_STAGE, _STAGE.c.account_number == Account.account_number)
            .group_by(Account.account_number, LedgerEntry.component)):
        sums[(number, str(component))] = [int(total), int(count)]
    named = named_entries({i for r in rows for i in r.applied_portal_ids or ()})
    return _Chunk(accounts, holders, sums, pending_movements(numbers), named)


def apply_chunk(rows: list[FeedRow], result: ImportResult, refuse,
                keys: list[bytes] | None = None) -> None:
    """Apply `rows` (account numbers all different) in one transaction, not committed;
    `refuse(position, reason)` is called for each row that cannot be applied. `keys`: each
    row's raw values (replay.row_key), kept in a digest so that a replay can skip the row."""
    db.session.flush()
    settle_in()
    chunk = _load(rows)
    lag = current_app.config["JOURNAL_OLD_FEED_LAG_DAYS"]
    applied = []
    for position, row in enumerate(rows):
        problem = refusal(row, chunk.accounts.get(row.account_number), chunk.named, chunk.sums)
        if problem:
            refuse(position, problem)
            continue
        outcome, posted = _apply_row(row, chunk, lag)
        result.entries_posted += posted
        setattr(result, outcome, getattr(result, outcome) + 1)
        applied.append(position)
    entries = _write(chunk)
    # The ledger entries and acknowledgements (most of the server's work) are inserted while
    # the audit events are drafted and the replay digests' keys taken (Python only).
    with inserted_behind(*entries):
        drafted = _draft_events(chunk)
        kept = [] if keys is None else [
            (chunk.accounts[rows[p].account_number].id, keys[p]) for p in applied
            if _final(rows[p], chunk)]
    # The corrections lock the accounts' nightly states before the audit append below locks
    # their streams' heads: the order a payment's posting takes them in (its listeners, then
    # its audit event), so a feed and a late webhook for one account cannot deadlock.
    figures_lowered([account.id for account in chunk.lowered.values()])
    append_bulk(drafted)
    remember(kept)


def _final(row: FeedRow, chunk: _Chunk) -> bool:
    """The row's values are those the chunk leaves (its account is named once; its cardholder
    may be named by other rows, which must have left it as this row gives it)."""
    # Each of the row's cardholder values (as _apply_row took them) held, by name, by the
    # cardholder as the chunk leaves it; the cardholder holds every field.
    given, holder = chunk.given[row.account_number], chunk.holders[row.cardholder_id]
    return given.items() <= holder.values.items()


def _diff(current: dict, values: dict, changes: dict, prefix: str = "") -> bool:
    changed = False
    for name, value in values.items():
        old = current.get(name)
        if old != value:
            changes[prefix + name] = (old, value)
            current[name] = value
            changed = True
    return changed


def _apply_row(row: FeedRow, chunk: _Chunk, lag: int) -> tuple[str, int]:
    """rowwise._apply_row on the chunk's state: the same changes, entries and events."""
    changes: dict = {}
    holder = chunk.holders.get(row.cardholder_id)
    if holder is None:
        given = holder_values(row, False)
        holder = _Holder(None, dict(given), new=True)  # a copy: later rows may change it
        chunk.holders[row.cardholder_id] = holder
        changes["cardholder"] = (None, row.cardholder_id)
    else:
        given = holder_values(row, holder.enrolled)
        _diff(holder.values, given, changes, "cardholder.")
    chunk.given[row.account_number] = given  # for _final

    account_values = {name: getattr(row, name) for name in ACCOUNT_FIELDS}
    account_values["feed_as_of"] = row.as_of
    account = chunk.accounts.get(row.account_number)
    created = account is None
    if created:
        account = _Account(None, holder, None, row.cardholder_id, dict(account_values), new=True)
        chunk.accounts[row.account_number] = account
    else:
        if holder.id is None or account.holder_id != holder.id:
            changes["cardholder"] = (account.customer_id, row.cardholder_id)
            account.holder, account.customer_id, account.changed = holder, row.cardholder_id, True
        if _diff(account.values, account_values, changes):
            account.changed = True

    if not created:
        source, chosen = choose(chunk.pending.get(row.account_number, {}),
                                row.applied_portal_ids, row.as_of, lag)
        for entry_id in chosen:
            component, amount, _ = chunk.pending[row.account_number].pop(entry_id)
            chunk.acks.append((entry_id, account, row.as_of, source.value))
            chunk.sums[(row.account_number, component)][0] += amount
        if chosen:
            changes["applied_portal_ids"] = (None, [movement_id(i) for i in chosen])
    kind = EntryKind.STATEMENT_BALANCE if created else EntryKind.ADJUSTMENT
    posted = {}
    for component, amount in row.component_amounts().items():
        running = chunk.sums[(row.account_number, component)]
        difference = amount - running[0]
        if not difference:
            continue
        running[0], running[1] = amount, running[1] + 1
        chunk.entries.append((account, kind.value, component, difference, row.currency,
                              row.as_of,
                              f"feed:{row.as_of.isoformat()}:{component}:{running[1]}:{amount}"))
        posted[component] = difference

    outcome, event = outcome_event(row, created, account_values, changes, posted)
    if event:
        chunk.events.append((event[0], account, *event[1:]))
    if lowers_charges(created, changes, posted):
        chunk.lowered[row.account_number] = account
    return outcome, len(posted)


def _write(chunk: _Chunk) -> tuple:
    """Write the chunk's cardholders and accounts; return the inserts of its ledger entries
    and acknowledgements (for `inserted_behind`)."""
    # The rows of the accounts written (updated, or given entries or acknowledgements: their
    # foreign keys lock the account's row) first, in id order, as the nightly run claims them:
    # the UPDATE below locks them in whatever order its join finds them (docs/money.md,
    # "Lock order").
    written = [a for a in chunk.accounts.values() if a.changed] + [
        a for a, *_ in chunk.entries] + [a for _, a, *_ in chunk.acks]
    lock_accounts_money({a.id for a in written if not a.new})
    now = utcnow()
    new_holders = [h for h in chunk.holders.values() if h.new]
    for holder, new_id in zip(new_holders, allocate_ids(Cardholder.__table__, len(new_holders))):
        holder.id = new_id
    new_accounts = [a for a in chunk.accounts.values() if a.new]
    for account, new_id in zip(new_accounts, allocate_ids(Account.__table__, len(new_accounts))):
        account.id = new_id
    insert_rows(Cardholder.__table__,
                ("id", "customer_id", *HOLDER_FIELDS, "failed_logins", "session_version",
                 "created_at", "updated_at"),
                [(h.id, customer_id, *(h.values[f] for f in HOLDER_FIELDS), 0, 0, now, now)
                 for customer_id, h in chunk.holders.items() if h.new])
    update_rows(Cardholder.__table__, "id", (*HOLDER_FIELDS, "updated_at"),
                [(h.id, *(h.values[f] for f in HOLDER_FIELDS), now)
                 for h in chunk.holders.values() if h.changed])
    names = (*ACCOUNT_FIELDS, "feed_as_of")
    insert_rows(Account.__table__,
                ("id", "account_number", "cardholder_id", "status", "created_at", *names),
                [(a.id, number, a.holder.id, AccountStatus.OPEN.value, now,
                  *(a.values[f] for f in names))
                 for number, a in chunk.accounts.items() if a.new])
    update_rows(Account.__table__, "id", ("cardholder_id", *names),
                [(a.id, a.holder.id, *(a.values[f] for f in names))
                 for a in chunk.accounts.values() if a.changed and not a.new])
    # Nothing names the new entries and acknowledgements: their ids come from the column's
    # default as they are written, ascending in this order (no round trip to take them).
    return ((LedgerEntry.__table__,
             ("account_id", "kind", "component", "amount", "currency",
              "effective_date", "source_ref", "posted_at"),
             [(account.id, *rest, now) for account, *rest in chunk.entries]),
            (JournalAck.__table__,
             ("ledger_entry_id", "account_id", "feed_as_of", "source", "recorded_at"),
             [(entry_id, account.id, as_of, source, now)
              for entry_id, account, as_of, source in chunk.acks]))


def _draft_events(chunk: _Chunk) -> Drafted:
    """One audit event per created or changed account (`_write` gave the new ones ids),
    drafted; a new account's stream is chained already."""
    return draft_bulk([dict(action=action, subject_type="account", subject_id=account.id,
                            before=before, after=after, actor=ACTOR)
                       for action, account, before, after in chunk.events],
                      fresh=frozenset(stream_for(subject_type="account", subject_id=account.id)
                                      for account in chunk.accounts.values() if account.new))
