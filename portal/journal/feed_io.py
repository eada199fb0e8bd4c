"""Reading feed files (CSV or JSON Lines) and writing rejects files. No database here."""
from __future__ import annotations

import codecs
import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

from portal.journal.feed_rules import FIELDS

CSV = "csv"
JSONL = "jsonl"
_EXTENSIONS = {".csv": CSV, ".jsonl": JSONL, ".ndjson": JSONL}


class FeedFileError(Exception):
    """The file as a whole cannot be read: missing, not UTF-8, or a wrong CSV header."""


@dataclass
class RawRow:
    """One data row as read: its physical line number, field values, and a parse problem if any."""

    line: int
    values: dict
    problem: str | None = None
    # What to write back to a rejects file: the CSV cells, or the JSON object / raw text.
    original: object = None


def detect_format(path: str) -> str:
    """CSV or JSONL by extension; otherwise sniffed from the first non-blank character."""
    ext = os.path.splitext(path)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(4096).lstrip()
    except OSError as exc:
        raise FeedFileError(f"cannot read {path}: {exc.strerror}") from exc
    return JSONL if head.startswith("{") else CSV


def count_lines(path: str) -> int:
    """Physical lines in the file; also proves the whole file is readable UTF-8 before loading."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise FeedFileError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise FeedFileError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return lines


class FeedReader:
    """Iterate the data rows of a feed file; ``header`` holds the CSV header once read.

    Each row comes with its physical line number (a CSV header is line 1); blank lines are
    skipped. Raises FeedFileError for a missing file, text that is not UTF-8 or a wrong header.
    """

    def __init__(self, path: str, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self.header: list[str] | None = None

    def __iter__(self) -> Iterator[RawRow]:
        try:
            fh = open(self.path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise FeedFileError(f"cannot read {self.path}: {exc.strerror}") from exc
        with fh:
            try:
                yield from (self._read_csv(fh) if self.fmt == CSV else _read_jsonl(fh))
            except UnicodeDecodeError as exc:
                raise FeedFileError(f"{self.path} is not UTF-8 text ({exc.reason})") from exc
            except csv.Error as exc:
                raise FeedFileError(f"{self.path} is not a readable CSV file ({exc})") from exc

    def _read_csv(self, fh) -> Iterator[RawRow]:
        reader = csv.reader(fh, strict=True)
        first = next(reader, None)
        if first is None:
            raise FeedFileError("the file is empty (no header row)")
        names = self.header = _check_header(first)
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not cells or not "".join(cells).strip():  # blank: every cell empty or spaces
                continue
            problem = None
            if len(cells) != len(names):
                problem = f"has {len(cells)} fields but the header has {len(names)}"
            yield RawRow(line, dict(zip(names, cells)), problem, cells)


def _check_header(header: list[str]) -> list[str]:
    names = [h.strip() for h in header]
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise FeedFileError(f"the header row lacks {', '.join(missing)}")
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise FeedFileError(f"the header row names {', '.join(twice)} more than once")
    return names


def _read_jsonl(fh) -> Iterator[RawRow]:
    for line, text in enumerate(fh, start=1):
        if not text.strip():
            continue
        try:
            # Numbers stay text so amounts are never floats.
            obj = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
        except json.JSONDecodeError as exc:
            yield RawRow(line, {}, f"is not valid JSON ({exc.msg})", text.rstrip("\r\n"))
            continue
        if not isinstance(obj, dict):
            yield RawRow(line, {}, "is not a JSON object", text.rstrip("\r\n"))
            continue
        yield RawRow(line, obj, None, obj)


def default_rejects_path(path: str, fmt: str) -> str:
    return f"{path}.rejects.{'csv' if fmt == CSV else 'jsonl'}"


class RejectsWriter:
    """Writes refused rows in the feed's own format plus `line` and `reason`; opens lazily."""

    def __init__(self, path: str, fmt: str, header: list[str] | None = None) -> None:
        self.path, self.fmt, self.header = path, fmt, header
        self.count = 0
        self._fh = None
        self._csv = None

    def _open(self):
        self._fh = open(self.path, "w", encoding="utf-8", newline="")
        if self.fmt == CSV:
            self._csv = csv.writer(self._fh)
            self._csv.writerow([*(self.header or FIELDS), "line", "reason"])

    def write(self, row: RawRow, reason: str) -> None:
        if self._fh is None:
            self._open()
        self.count += 1
        if self.fmt == CSV:
            width = len(self.header or FIELDS)
            cells = list(row.original or [row.values.get(f, "") for f in FIELDS])
            cells = (cells + [""] * width)[:width]
            self._csv.writerow([*cells, row.line, reason])
        else:
            obj = dict(row.original) if isinstance(row.original, dict) else {"raw": row.original}
            obj.update(line=row.line, reason=reason)
            self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
