"""Skipping the rows of a replayed feed that would change nothing, without validating them.

When the import applies a row to an account, it keeps a digest of the row's raw values (and
the old-feed lag) together with everything the outcome of applying that row depends on, as it
stands right after: the account's fields, its cardholder and the cardholder's fields (and
whether enrolled), the number and newest id of its ledger entries, the number of its
acknowledgements (`state_of`). Applying the same row to the same state again is a no-op: the
account and cardholder already hold the row's values, the ledger sums in the issuer's figures
equal its amounts, and the movements it acknowledges are acknowledged. So a later row whose
digest, over the state as it stands then, equals the one kept is counted unchanged and
skipped, unless an earlier row of the same import (one not skipped) named its account or its
cardholder: that row may have changed the state the digest was taken over.

A digest is kept only for a row whose applied values are the final ones of its chunk (the
set-based path: one row per account; its cardholder's values as the chunk leaves them). A
digest kept earlier and not replaced stays true: it describes a (row, state) pair, and any
change to the state changes the digest. Nothing of the feed is stored, only the digest.

On PostgreSQL the digest is taken in the server: Python hashes each row's key (with the lag),
the keys are staged with COPY and one statement per block compares md5(key hash, account and
cardholder fields, ledger count and newest id, acknowledgement count) with the digest kept (one
statement per chunk writes them). On SQLite the same parts are read and hashed in Python.

Concurrency: the digests of a block of rows are compared when the block is read, before the
chunks ahead of it are committed; a change another process commits in between is not undone by
a skipped row (it would have been by an applied one), as if the import had run a moment earlier.
"""
from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import ARRAY, any_, cast, delete, func, select, text

from portal.accounts.models import Account, Cardholder, LedgerEntry
from portal.bulk import fetch_all, insert_rows, is_postgres, stage_table
from portal.extensions import db
from portal.journal.feed_io import RawRow
from portal.journal.models import FeedSeen, JournalAck

_STATE_FIELDS = ("card_last4", "currency", "credit_limit", "policy_profile", "minimum_due",
                 "oldest_unpaid_due_date", "feed_as_of")
_HOLDER_FIELDS = ("customer_id", "full_name", "date_of_birth", "phone", "email", "locale",
                  "timezone")


def row_key(raw: RawRow) -> bytes:
    """The row's raw values (names and text as read), which determine its validated form."""
    values = raw.values
    if isinstance(raw.original, list):  # a CSV row: text cells under the file's header
        joined = "\x1f".join((*values, *values.values()))
        if joined.count("\x1f") == 2 * len(values) - 1:  # no cell holds the separator
            return joined.encode()
    return repr(values).encode()


def _states(column, values: list) -> dict[int, tuple[str, str | None, tuple]]:
    """account id -> (account number, digest kept, state) of the accounts whose `column` is
    one of `values`."""
    found = {}
    step = len(values) if is_postgres() else 5000  # SQLite's limit on parameters
    for start in range(0, len(values), step or 1):
        found.update(_states_of(_in(column, values[start:start + step])))
    return found


def _states_of(where) -> dict[int, tuple[str, str | None, tuple]]:
    # The ledger and acknowledgements are counted in grouped queries: correlated per account,
    # PostgreSQL planned them on statistics from before the chunk's COPY, a scan each.
    state = (Account.cardholder_id, *(getattr(Account, f) for f in _STATE_FIELDS),
             *(getattr(Cardholder, f) for f in _HOLDER_FIELDS),
             Cardholder.password_hash.is_not(None))
    accounts = fetch_all(
        select(Account.id, Account.account_number, FeedSeen.digest, *state)
        .join(Cardholder, Account.cardholder_id == Cardholder.id)
        .outerjoin(FeedSeen, FeedSeen.account_id == Account.id).where(where))
    ids = [row[0] for row in accounts]
    entries = {account_id: (count, newest) for account_id, count, newest in fetch_all(
        select(LedgerEntry.account_id, func.count(LedgerEntry.id), func.max(LedgerEntry.id))
        .where(_in(LedgerEntry.account_id, ids)).group_by(LedgerEntry.account_id))} if ids else {}
    acks = dict(fetch_all(
        select(JournalAck.account_id, func.count(JournalAck.id))
        .where(_in(JournalAck.account_id, ids)).group_by(JournalAck.account_id))) if ids else {}
    return {account_id: (number, digest, (*state, entries.get(account_id), acks.get(account_id)))
            for account_id, number, digest, *state in accounts}


def _digest(key: bytes, state: tuple, lag: int) -> str:
    return hashlib.blake2b(b"%d\x00%s\x00%s" % (lag, key, repr(state).encode()),
                           digest_size=16).hexdigest()


def _key_hash(key: bytes, lag: int) -> str:
    """What PostgreSQL's digest takes of the row (_server_digests)."""
    return hashlib.blake2b(b"%d\x00%s" % (lag, key), digest_size=16).hexdigest()


# The state as _states_of reads it, hashed in the server together with the row's key hash.
# `stage` holds (tag, match, key); `match` is compared with account.<column>.
_SERVER_DIGESTS = """
WITH s AS MATERIALIZED (
    SELECT st.tag, st.key, a.id AS account_id,
           CAST(ROW(a.cardholder_id, {account_fields}, {holder_fields},
                    c.password_hash IS NOT NULL) AS TEXT) AS state
    FROM {stage} st JOIN account a ON a.{column} = st.match
    JOIN cardholder c ON c.id = a.cardholder_id),
e AS (SELECT account_id, count(id) AS n, max(id) AS m FROM ledger_entry
      WHERE account_id IN (SELECT account_id FROM s) GROUP BY account_id),
k AS (SELECT account_id, count(id) AS n FROM journal_ack
      WHERE account_id IN (SELECT account_id FROM s) GROUP BY account_id)
SELECT s.tag, s.account_id,
       md5(concat(s.key, ':', s.state, ':', coalesce(e.n, 0), ':', coalesce(e.m, 0), ':',
                  coalesce(k.n, 0))) AS digest
FROM s LEFT JOIN e ON e.account_id = s.account_id LEFT JOIN k ON k.account_id = s.account_id
"""


def _server_digests(stage: str, column: str) -> str:
    return _SERVER_DIGESTS.format(
        stage=stage, column=column,
        account_fields=", ".join(f"a.{f}" for f in _STATE_FIELDS),
        holder_fields=", ".join(f"c.{f}" for f in _HOLDER_FIELDS))


def _stage_keys(rows: list[tuple], match_type: str) -> None:
    stage_table("feed_replay_keys", [("tag", "BIGINT"), ("match", match_type), ("key", "TEXT")],
                rows)
    db.session.execute(text("ANALYZE feed_replay_keys"))  # fresh counts for the joins' plan


def _in(column, values: list):
    # One array parameter on PostgreSQL: thousands of IN parameters cost more to send.
    return column == any_(cast(values, ARRAY(column.type))) if is_postgres() else column.in_(values)


def unchanged(block: list[RawRow], touched: set[str]) -> set[int]:
    """Positions in `block` of the rows that would change nothing: kept digest equal, no
    earlier row of this import (`touched`: account numbers and cardholder ids of the rows not
    skipped so far) naming their account or cardholder. Adds the rows not skipped to
    `touched`."""
    lag = current_app.config["JOURNAL_OLD_FEED_LAG_DAYS"]
    numbered = [(position, raw.values["account_number"].strip())
                for position, raw in enumerate(block)
                if not raw.problem and isinstance(raw.values.get("account_number"), str)]
    matching = (_matching_in_server if is_postgres() else _matching)(block, numbered, lag)
    skipped = set()
    for position, raw in enumerate(block):
        values = raw.values
        number, holder = values.get("account_number"), values.get("cardholder_id")
        number = number.strip() if isinstance(number, str) else None
        holder = holder.strip() if isinstance(holder, str) else None
        if position in matching and number not in touched and holder not in touched:
            skipped.add(position)
            continue
        touched.update(v for v in (number, holder) if v)
    return skipped


def _matching(block: list[RawRow], numbered: list[tuple[int, str]], lag: int) -> set[int]:
    """Positions of the rows whose digest over their account's state is the one kept."""
    found = {number: (digest, state) for number, digest, state
             in _states(Account.account_number, [n for _, n in numbered]).values() if digest}
    return {position for position, number in numbered if (kept := found.get(number))
            and kept[0] == _digest(row_key(block[position]), kept[1], lag)}


def _matching_in_server(block: list[RawRow], numbered: list[tuple[int, str]],
                        lag: int) -> set[int]:
    if not numbered:
        return set()
    _stage_keys([(position, number, _key_hash(row_key(block[position]), lag))
                 for position, number in numbered], "TEXT")
    return {position for (position,) in fetch_all(text(
        f"SELECT d.tag FROM ({_server_digests('feed_replay_keys', 'account_number')}) d "
        "JOIN journal_feed_seen f ON f.account_id = d.account_id AND f.digest = d.digest"))}


def remember(applied: list[tuple[int, bytes]]) -> None:
    """Keep the digest of each (account id, row key) over the account's state as it stands
    now (in the caller's transaction, after the rows were written)."""
    if not applied:
        return
    keys = dict(applied)
    lag = current_app.config["JOURNAL_OLD_FEED_LAG_DAYS"]
    if is_postgres():
        _stage_keys([(account_id, account_id, _key_hash(key, lag))
                     for account_id, key in keys.items()], "BIGINT")
        db.session.execute(text(
            "INSERT INTO journal_feed_seen (account_id, digest) "
            f"SELECT d.account_id, d.digest FROM ({_server_digests('feed_replay_keys', 'id')}) d "
            "ON CONFLICT (account_id) DO UPDATE SET digest = excluded.digest"))
        return
    states = _states(Account.id, list(keys))
    kept = [i for i, (_, digest, _) in states.items() if digest]
    for start in range(0, len(kept), 5000):
        db.session.execute(delete(FeedSeen).where(_in(FeedSeen.account_id,
                                                      kept[start:start + 5000])),
                           execution_options={"synchronize_session": False})
    insert_rows(FeedSeen.__table__, ("account_id", "digest"),
                [(i, _digest(keys[i], state, lag)) for i, (_, _, state) in states.items()])
