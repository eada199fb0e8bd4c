"""Loading the issuer's account feed: upsert cardholders and accounts, post balance changes.

The ledger is never edited: when the feed's balance for a component differs from what the
ledger holds *in the issuer's figures* on the feed's date, the difference is posted as one entry
(``statement_balance`` when the account is first loaded, ``adjustment`` afterwards). The issuer's
figures are the issuer's own entries and accruals up to the feed's date plus the portal
movements it has applied (`applied_portal_ids`, or the old-feed date rule); portal movements it
has not applied stay on top of its figure and are never undone (docs/money.md). Replaying a
file therefore posts nothing and changes nothing.

Rows are validated in one pass as they are read and applied in chunks of whole batches
(`batch_size` rows each), one transaction per chunk, set-based (portal/journal/bulk_load.py).
A chunk that names one account twice is applied batch by batch, row by row
(portal/journal/rowwise.py), so the second row sees the first. Either way the results, the
rejects file (its rows in the same order) and the audit trail are those of applying the rows
one batch at a time in file order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from portal.bulk import gc_paused
from portal.journal.bulk_load import apply_chunk, known_contacts
from portal.journal.feed_io import (
    CSV, FeedReader, RawRow, RejectsWriter, count_lines, default_rejects_path, detect_format,
)
from portal.journal.feed_result import ImportConflict, ImportResult, RejectFn
from portal.journal.feed_rules import FeedRow, RowError, validate_row
from portal.journal.replay import row_key, unchanged
from portal.journal.rowwise import commit_batch, commit_or_conflict

__all__ = ["BATCH_SIZE", "ImportConflict", "ImportResult", "import_file", "import_rows"]

BATCH_SIZE = 500
# Rows per set-based chunk (rounded down to whole batches): fewer, larger statements, with
# memory for a chunk's state bounded whatever the size of the file.
CHUNK_ROWS = 50_000
# Rows read ahead to look up the contact details already stored for their cardholders and
# to compare with the digests kept (each block's comparison reads the ledger once).
BLOCK_ROWS = 50_000


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
        with gc_paused():  # a command-line batch: see portal.bulk.gc_paused
            result = import_rows(reader, on_reject=on_reject, batch_size=batch_size,
                                 progress=progress)
    finally:
        if writer is not None:
            writer.close()
    result.rejects_path = rejects_path if writer is not None else None
    return result


class _Rejects:
    """Refused rows held until their batch is done, then passed on in the order the
    row-by-row import gives them: per batch, the rows that failed validation while it
    filled, then the rows it refused, each in file order."""

    def __init__(self, result: ImportResult, on_reject: RejectFn | None) -> None:
        self.result, self.on_reject = result, on_reject
        self.held: list[tuple[int, int, int, RawRow, str]] = []

    def hold(self, batch: int, refused: bool, raw: RawRow, reason: str) -> None:
        self.held.append((batch, int(refused), raw.line, raw, reason))

    def release(self, through_batch: int | None = None) -> None:
        self.held.sort(key=lambda item: item[:3])
        cut = len(self.held) if through_batch is None else next(
            (i for i, item in enumerate(self.held) if item[0] > through_batch), len(self.held))
        for _, _, _, raw, reason in self.held[:cut]:
            self.result.rejected += 1
            if len(self.result.rejects) < 1000:
                self.result.rejects.append((raw.line, reason))
            if self.on_reject:
                self.on_reject(raw, reason)
        del self.held[:cut]


def import_rows(rows: Iterable[RawRow], *, on_reject: RejectFn | None = None,
                batch_size: int = BATCH_SIZE,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Validate and load raw rows, committing every chunk of whole `batch_size` batches.

    Guarantees: after a successful return each loaded account's ledger sums, per component,
    to the feed's amounts; an unchanged row writes nothing; each created or changed account
    has one audit event; every refused row was passed to `on_reject` with its reason.
    """
    result = ImportResult()
    rejects = _Rejects(result, on_reject)
    chunk_rows = batch_size * max(1, CHUNK_ROWS // batch_size)
    chunk = _Chunk()
    valid = 0  # valid rows so far: row n (from 0) belongs to batch n // batch_size
    touched: set[str] = set()  # accounts and cardholders named by rows not skipped
    for block in _blocks(rows):
        skipped = unchanged(block, touched)
        known = known_contacts({raw.values["cardholder_id"].strip()
                                for position, raw in enumerate(block) if position not in skipped
                                and isinstance(raw.values.get("cardholder_id"), str)})
        for position, raw in enumerate(block):
            result.read += 1
            if position in skipped:
                # Valid (applied before, word for word) and a no-op: counted, not validated.
                result.unchanged += 1
                valid += 1
            elif raw.problem:
                rejects.hold(valid // batch_size, False, raw, f"the row {raw.problem}")
            else:
                try:
                    chunk.add(raw, validate_row(raw.values, known), valid)
                    valid += 1
                except RowError as exc:
                    rejects.hold(valid // batch_size, False, raw, exc.reason)
            # A chunk ends with a whole batch, so no later row can add rejects to its batches.
            if len(chunk.rows) >= chunk_rows and valid % batch_size == 0:
                _commit_chunk(chunk, batch_size, rejects)
                rejects.release(through_batch=(valid - 1) // batch_size)
                chunk = _Chunk()
            if progress:
                progress(raw.line)
    if chunk.rows:
        _commit_chunk(chunk, batch_size, rejects)
    rejects.release()
    return result


class _Chunk:
    """Validated rows to apply together, each with its number among the valid rows."""

    def __init__(self) -> None:
        self.rows: list[tuple[RawRow, FeedRow]] = []
        self.numbers: list[int] = []

    def add(self, raw: RawRow, row: FeedRow, number: int) -> None:
        self.rows.append((raw, row))
        self.numbers.append(number)


def _blocks(rows: Iterable[RawRow]) -> Iterable[list[RawRow]]:
    block: list[RawRow] = []
    for raw in rows:
        block.append(raw)
        if len(block) >= BLOCK_ROWS:
            yield block
            block = []
    if block:
        yield block


def _commit_chunk(chunk: _Chunk, batch_size: int, rejects: _Rejects) -> None:
    """Apply a chunk and commit it."""
    rows = chunk.rows
    if len({row.account_number for _, row in rows}) < len(rows):
        batches: dict[int, list[tuple[RawRow, FeedRow]]] = {}
        for pair, number in zip(rows, chunk.numbers):
            batches.setdefault(number // batch_size, []).append(pair)
        for batch_no, batch in batches.items():
            commit_batch(batch, rejects.result,
                         lambda raw, reason, b=batch_no: rejects.hold(b, True, raw, reason))
        return

    def refuse(position: int, reason: str) -> None:
        rejects.hold(chunk.numbers[position] // batch_size, True, rows[position][0], reason)

    commit_or_conflict(lambda: apply_chunk([row for _, row in rows], rejects.result, refuse,
                                           [row_key(raw) for raw, _ in rows]),
                       rows[0][0].line, rows[-1][0].line)
