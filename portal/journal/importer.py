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

from portal.journal.bulk_load import apply_chunk, known_contacts
from portal.journal.feed_io import (
    CSV, FeedReader, RawRow, RejectsWriter, count_lines, default_rejects_path, detect_format,
)
from portal.journal.feed_result import ImportConflict, ImportResult, RejectFn
from portal.journal.feed_rules import FeedRow, RowError, validate_row
from portal.journal.rowwise import commit_batch, commit_or_conflict

__all__ = ["BATCH_SIZE", "ImportConflict", "ImportResult", "import_file", "import_rows"]

BATCH_SIZE = 500
# Rows per set-based chunk (rounded down to whole batches): fewer, larger statements, with
# memory for a chunk's state bounded whatever the size of the file.
CHUNK_ROWS = 50_000
# Rows read ahead to look up the contact details already stored for their cardholders.
BLOCK_ROWS = 10_000


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
    chunk: list[tuple[RawRow, FeedRow]] = []
    valid = 0  # valid rows so far: row n (from 0) belongs to batch n // batch_size
    for block in _blocks(rows):
        known = known_contacts({raw.values["cardholder_id"].strip() for raw in block
                                if isinstance(raw.values.get("cardholder_id"), str)})
        for raw in block:
            result.read += 1
            if raw.problem:
                rejects.hold(valid // batch_size, False, raw, f"the row {raw.problem}")
            else:
                try:
                    chunk.append((raw, validate_row(raw.values, known)))
                    valid += 1
                except RowError as exc:
                    rejects.hold(valid // batch_size, False, raw, exc.reason)
            if len(chunk) >= chunk_rows:
                _commit_chunk(chunk, valid - len(chunk), batch_size, rejects)
                rejects.release(through_batch=(valid - 1) // batch_size)
                chunk = []
            if progress:
                progress(raw.line)
    if chunk:
        _commit_chunk(chunk, valid - len(chunk), batch_size, rejects)
    rejects.release()
    return result


def _blocks(rows: Iterable[RawRow]) -> Iterable[list[RawRow]]:
    block: list[RawRow] = []
    for raw in rows:
        block.append(raw)
        if len(block) >= BLOCK_ROWS:
            yield block
            block = []
    if block:
        yield block


def _commit_chunk(chunk: list[tuple[RawRow, FeedRow]], first: int, batch_size: int,
                  rejects: _Rejects) -> None:
    """Apply a chunk whose first row is valid row number `first` and commit it."""
    numbers = {row.account_number for _, row in chunk}
    if len(numbers) < len(chunk):
        for start in range(0, len(chunk), batch_size):
            batch_no = (first + start) // batch_size
            commit_batch(chunk[start:start + batch_size], rejects.result,
                         lambda raw, reason, b=batch_no: rejects.hold(b, True, raw, reason))
        return

    def refuse(position: int, reason: str) -> None:
        rejects.hold((first + position) // batch_size, True, chunk[position][0], reason)

    commit_or_conflict(lambda: apply_chunk([row for _, row in chunk], rejects.result, refuse),
                       chunk[0][0].line, chunk[-1][0].line)
