"""CSV exports of agreed plans and posted payments for the issuer's core system.

Format (both files): UTF-8 without a byte-order mark, a header row, RFC 4180 quoting and line
ends, one row per plan or payment in id order. Amounts are decimal strings in the currency's
major unit (`portal.domain.money.to_major`: 12345 CNY -> "123.45"), dates ISO 8601
(YYYY-MM-DD), moments ISO 8601 in UTC. The columns and their order are fixed (`PLAN_COLUMNS`,
`PAYMENT_COLUMNS`); new columns are only ever added at the end. No run time or other varying
value is written, so the same rows always give the same bytes.

Payments are selected by when the portal *posted* them (`Payment.posted_at`, UTC days), not by
their value date (`paid_on`): a payment posted after an export ran but dated inside its window
goes out with the next window instead of never. `refunded_amount` and `status` are stated as of
the window's end, so a closed window always gives the same file; refunds and chargebacks made
later go out in the journal export of the window in which they were made
(`portal.exports.journal`, docs/money.md).
"""
from __future__ import annotations

import csv
import os
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable, Iterator, TextIO, TypeVar

from sqlalchemy import func, select

from portal.accounts.models import Account
from portal.domain.money import to_major
from portal.extensions import db
from portal.payments.models import Payment, PaymentReversal
from portal.payments.states import PaymentStatus
from portal.plans.models import AGREED_STATUSES, Plan
from portal.timeutil import as_aware

PLAN_COLUMNS = (
    "plan_id", "account_number", "status", "kind", "currency", "instalment_count", "frequency",
    "first_date", "down_payment", "total", "fees_waived", "discount", "interest_mode",
    "interest_rate_percent", "policy_profile", "policy_version", "started_on", "completed_on",
    "broken_on", "cancelled_on", "accepted_at", "terms_hash",
)
PAYMENT_COLUMNS = (
    "payment_id", "account_number", "receipt_number", "paid_on", "currency", "amount",
    "refunded_amount", "fees", "interest", "principal", "unapplied", "choice", "provider",
    "provider_ref", "status", "posted_at",
)
POSTED = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)
BATCH = 1000
T = TypeVar("T")


def _money(amount: int | None, currency: str) -> str:
    return "" if amount is None else str(to_major(int(amount), currency))


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return as_aware(value).astimezone(timezone.utc).replace(microsecond=0).isoformat()


def window(since: date, until: date | None) -> tuple[datetime, datetime | None]:
    """Posting-time bounds in UTC: from the start of `since` to the end of `until` (none)."""
    start = datetime.combine(since, time(0), tzinfo=timezone.utc)
    end = (datetime.combine(until + timedelta(days=1), time(0), tzinfo=timezone.utc)
           if until is not None else None)
    return start, end


def plan_rows(since: date, until: date | None = None) -> Iterator[dict]:
    """Agreed plans (active, completed, broken or cancelled after agreement) that started on
    or after `since` (and on or before `until`), in id order, streamed in batches."""
    query = (select(Plan, Account.account_number).join(Account, Plan.account_id == Account.id)
             .where(Plan.status.in_(AGREED_STATUSES), Plan.started_on.is_not(None),
                    Plan.started_on >= since))
    if until is not None:
        query = query.where(Plan.started_on <= until)
    rows = db.session.execute(query.order_by(Plan.id).execution_options(yield_per=BATCH))
    for plan, number in rows:
        cur = plan.currency
        yield {
            "plan_id": plan.id, "account_number": number, "status": plan.status.value,
            "kind": plan.kind, "currency": cur, "instalment_count": plan.instalment_count,
            "frequency": plan.frequency, "first_date": _day(plan.first_date),
            "down_payment": _money(plan.down_payment, cur), "total": _money(plan.total, cur),
            "fees_waived": _money(plan.fees_waived, cur), "discount": _money(plan.discount, cur),
            "interest_mode": plan.interest_mode,
            "interest_rate_percent": plan.interest_rate_percent or "",
            "policy_profile": plan.policy_profile, "policy_version": plan.policy_version,
            "started_on": _day(plan.started_on), "completed_on": _day(plan.completed_on),
            "broken_on": _day(plan.broken_on), "cancelled_on": _day(plan.cancelled_on),
            "accepted_at": _moment(plan.accepted_at), "terms_hash": plan.terms_hash or "",
        }


def payment_rows(since: date, until: date | None = None) -> Iterator[dict]:
    """Payments posted (UTC) from `since` to `until` inclusive that had succeeded, in id order,
    with their allocation per component and what was refunded of them by the window's end."""
    start, end = window(since, until)
    reversed_by_end = select(func.coalesce(func.sum(PaymentReversal.amount), 0)).where(
        PaymentReversal.payment_id == Payment.id)
    if end is not None:
        reversed_by_end = reversed_by_end.where(PaymentReversal.created_at < end)
    query = (select(Payment, Account.account_number, reversed_by_end.scalar_subquery())
             .join(Account, Payment.account_id == Account.id)
             .where(Payment.status.in_(POSTED), Payment.posted_at.is_not(None),
                    Payment.posted_at >= start))
    if end is not None:
        query = query.where(Payment.posted_at < end)
    rows = db.session.execute(query.order_by(Payment.id).execution_options(yield_per=BATCH))
    for payment, number, refunded in rows:
        cur = payment.currency
        refunded = int(refunded)
        status = (PaymentStatus.REFUNDED if refunded >= payment.amount
                  else PaymentStatus.SUCCEEDED)
        split = payment.allocation or {}
        yield {
            "payment_id": payment.id, "account_number": number,
            "receipt_number": payment.receipt_number or "", "paid_on": _day(payment.paid_on),
            "currency": cur, "amount": _money(payment.amount, cur),
            "refunded_amount": _money(refunded, cur),
            **{name: _money(split.get(key, 0), cur)
               for name, key in (("fees", "fee"), ("interest", "interest"),
                                 ("principal", "principal"), ("unapplied", "unapplied"))},
            "choice": payment.choice.value, "provider": payment.provider,
            "provider_ref": payment.provider_ref or "", "status": status.value,
            "posted_at": _moment(payment.posted_at),
        }


def write_csv(rows: Iterable[dict], columns: tuple[str, ...], out) -> int:
    """Write the header and `rows` to the text stream `out`; returns the number of rows."""
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n",
                            extrasaction="raise")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_atomically(path: str, write: Callable[[TextIO], T]) -> T:
    """Call `write` with a text stream on a temporary file next to `path`, then rename it into
    place, so a reader never sees half a file and a re-run replaces it with identical bytes.
    Returns what `write` returned."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=os.path.splitext(path)[1], dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            result = write(out)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return result


def write_file(rows: Iterable[dict], columns: tuple[str, ...], path: str) -> int:
    """Write the CSV to `path` atomically; returns the number of rows."""
    return write_atomically(path, lambda out: write_csv(rows, columns, out))
