"""Ledger rows as people read them: the nightly run's daily penalty interest, one row a day,
folded into one line per run of consecutive days within a month (issue 13, item 11).

A plain function over rows (anything with effective_date, kind, component, amount, currency
and source_ref), used by the cardholder's transaction history and the staff's ledger panel.
Every other entry stays a line of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DAILY_INTEREST_REF = "nightly:"  # source_ref of the nightly run's postings: nightly:<day>:...


@dataclass(frozen=True)
class LedgerLine:
    first_date: date
    last_date: date
    kind: str
    component: str | None
    amount: int
    currency: str
    source_ref: str | None
    days: int  # how many daily entries the line sums; 1 for any other entry

    @property
    def effective_date(self) -> date:
        return self.last_date

    @property
    def is_daily_run(self) -> bool:
        return self.days > 1


def _value(field):
    return getattr(field, "value", field)


def is_daily_interest(row) -> bool:
    return (_value(row.kind) == "interest" and row.amount > 0
            and (row.source_ref or "").startswith(DAILY_INTEREST_REF))


def _line(row) -> LedgerLine:
    return LedgerLine(row.effective_date, row.effective_date, _value(row.kind),
                      _value(row.component), row.amount, row.currency, row.source_ref, 1)


def _extends(line: LedgerLine, row) -> bool:
    """`row` continues `line`'s run: daily interest in the same currency and component, in
    the same month, on the day before its first day or after its last (rows come newest
    first or oldest first)."""
    day = row.effective_date
    return (line.source_ref is not None and line.source_ref.startswith(DAILY_INTEREST_REF)
            and is_daily_interest(row) and row.currency == line.currency
            and _value(row.component) == line.component
            and (day == line.first_date - timedelta(days=1)
                 or day == line.last_date + timedelta(days=1))
            and (day.year, day.month) == (line.first_date.year, line.first_date.month))


def ledger_lines(rows) -> list[LedgerLine]:
    """`rows` in the order given, with each run of consecutive daily penalty interest entries
    (no other entry between them, one month at most) summed into one line."""
    lines: list[LedgerLine] = []
    for row in rows:
        if lines and is_daily_interest(row) and _extends(lines[-1], row):
            last = lines[-1]
            day = row.effective_date
            lines[-1] = LedgerLine(min(last.first_date, day), max(last.last_date, day),
                                   last.kind, last.component, last.amount + row.amount,
                                   last.currency, last.source_ref, last.days + 1)
        else:
            lines.append(_line(row))
    return lines
