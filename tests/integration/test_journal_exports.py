"""Exports select by posting time, carry every portal movement and re-run identically."""
from __future__ import annotations

import csv
from datetime import date

import pytest

from portal.exports.journal import JOURNAL_COLUMNS
from portal.extensions import db as _db
from portal.journal.rules import movement_id
from portal.payments.models import ReversalKind
from portal.payments.posting import lock_payment, post_reversal
from tests.integration.journal_helpers import Clock, account, feed, movement_ids, pay, utc


@pytest.fixture()
def clock(clock):
    return Clock(clock, utc(2026, 11, 27, 4))


@pytest.fixture()
def acct(db, clock):
    feed(date(2026, 11, 26), 430_000)
    return account()


def export(runner, tmp_path, kind, since, until, name=None):
    out = tmp_path / (name or f"{kind}-{since}-{until}.csv")
    result = runner.invoke(args=["exports", kind, "--since", since, "--until", until,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as fh:
        return out.read_bytes(), list(csv.DictReader(fh))


def test_payment_posted_after_the_export_ran_but_dated_inside_its_window_goes_out_next(
        runner, tmp_path, acct, clock):
    _, rows = export(runner, tmp_path, "payments", "2026-11-27", "2026-11-27")
    assert rows == []
    # The provider's success on the 27th reaches the portal on the 28th (a late webhook).
    clock.now = utc(2026, 11, 28, 3)
    payment = pay(acct, 50_000, "late-webhook", utc(2026, 11, 27, 6))
    assert payment.paid_on == date(2026, 11, 27)
    _, rows = export(runner, tmp_path, "payments", "2026-11-28", "2026-11-28")
    assert [r["payment_id"] for r in rows] == [str(payment.id)]
    assert rows[0]["paid_on"] == "2026-11-27"
    _, journal = export(runner, tmp_path, "journal", "2026-11-28", "2026-11-28")
    assert [r["reference"] for r in journal] == [f"payment:{payment.id}:principal"]
    assert journal[0]["value_date"] == "2026-11-27"


def test_refund_made_after_the_payments_day_goes_out_in_the_journal(runner, tmp_path, acct,
                                                                    clock):
    payment = pay(acct, 50_000, "refunded-later", clock.now)
    first, rows = export(runner, tmp_path, "payments", "2026-11-27", "2026-11-27", "a.csv")
    assert rows[0]["refunded_amount"] == "0.00"
    clock.now = utc(2026, 12, 2, 2)
    post_reversal(lock_payment(payment.id), 20_000, kind=ReversalKind.REFUND,
                  external_ref="re_1", reason="Paid twice by mistake.")
    _db.session.commit()
    _, journal = export(runner, tmp_path, "journal", "2026-12-02", "2026-12-02")
    [row] = journal
    assert (row["kind"], row["amount"], row["currency"]) == ("reversal", "200.00", "CNY")
    [paid_entry] = movement_ids(acct, "payment:")
    assert row["reverses_movement_id"] == movement_id(paid_entry)
    assert row["posted_at"] == "2026-12-02T02:00:00+00:00"
    # The payments file for the 27th is the same file it was before the refund.
    again, _ = export(runner, tmp_path, "payments", "2026-11-27", "2026-11-27", "b.csv")
    assert again == first


def test_journal_export_lists_every_portal_movement_once_and_reruns_identically(
        runner, tmp_path, acct, clock):
    pay(acct, 30_000, "one", clock.now)
    clock.now = utc(2026, 11, 28, 9)
    pay(acct, 20_000, "two", clock.now)
    first, rows = export(runner, tmp_path, "journal", "2026-11-27", "2026-11-28", "1.csv")
    assert first.decode().splitlines()[0] == ",".join(JOURNAL_COLUMNS)
    assert [r["movement_id"] for r in rows] == [movement_id(i)
                                                for i in movement_ids(acct, "payment:")]
    assert all(not r["reference"].startswith(("feed:", "nightly:")) for r in rows)
    second, _ = export(runner, tmp_path, "journal", "2026-11-27", "2026-11-28", "2.csv")
    assert second == first
    _, day_one = export(runner, tmp_path, "journal", "2026-11-27", "2026-11-27")
    _, day_two = export(runner, tmp_path, "journal", "2026-11-28", "2026-11-28")
    assert day_one + day_two == rows
