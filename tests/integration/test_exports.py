"""`flask exports plans|payments`: CSV for the issuer's core system, stable and repeatable."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from portal.extensions import db as _db
from portal.payments.models import Payment, PaymentChoice
from portal.exports.services import PAYMENT_COLUMNS, PLAN_COLUMNS
from tests.integration.journal_helpers import pay
from tests.integration.plan_helpers import agree

NOW = datetime(2026, 11, 28, 4, tzinfo=timezone.utc)  # noon, 28 November, in Shanghai


@pytest.fixture(autouse=True)
def fixed_now(clock):
    clock.move_to(NOW)


@pytest.fixture()
def account(make_account):
    return make_account(principal=480_000, interest=15_000, fees=5_000, minimum_due=50_000,
                        account_number="6200000000042")


def _posted_payment(account, amount, key):
    return pay(account, amount, key, NOW)


def _read(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_payments_export_has_a_header_decimal_amounts_and_iso_dates(runner, account, tmp_path):
    payment = _posted_payment(account, 12_345, "k1")
    out = tmp_path / "payments.csv"
    result = runner.invoke(args=["exports", "payments", "--since", "2026-11-01",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(PAYMENT_COLUMNS)
    [row] = _read(out)
    assert row["payment_id"] == str(payment.id)
    assert row["account_number"] == "6200000000042"
    assert row["paid_on"] == "2026-11-28"
    assert (row["amount"], row["currency"], row["refunded_amount"]) == ("123.45", "CNY", "0.00")
    assert (row["fees"], row["interest"], row["principal"]) == ("50.00", "73.45", "0.00")
    assert row["receipt_number"] == payment.receipt_number
    assert row["status"] == "succeeded"
    assert row["posted_at"].endswith("+00:00")


def test_same_data_gives_the_same_file_byte_for_byte(runner, account, tmp_path):
    _posted_payment(account, 12_345, "k1")
    agree(account)
    _db.session.commit()
    for kind in ("plans", "payments"):
        first, second = tmp_path / f"{kind}-1.csv", tmp_path / f"{kind}-2.csv"
        for out in (first, second):
            result = runner.invoke(args=["exports", kind, "--since", "2026-11-01",
                                         "--out", str(out)])
            assert result.exit_code == 0, result.output
        assert first.read_bytes() == second.read_bytes()
        # A re-run into the same path replaces the file with the same bytes.
        runner.invoke(args=["exports", kind, "--since", "2026-11-01", "--out", str(first)])
        assert first.read_bytes() == second.read_bytes()


def test_plans_export_lists_agreed_plans_with_terms_in_major_units(runner, account, tmp_path):
    plan = agree(account)
    _db.session.commit()
    out = tmp_path / "plans.csv"
    result = runner.invoke(args=["exports", "plans", "--since", "2026-11-28", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(PLAN_COLUMNS)
    [row] = _read(out)
    assert row["plan_id"] == str(plan.id)
    assert row["status"] == "active" and row["kind"] == "instalment"
    assert row["instalment_count"] == "6" and row["frequency"] == "monthly"
    assert row["first_date"] == "2026-12-05" and row["started_on"] == "2026-11-28"
    assert row["total"] == str(plan.total // 100) + "." + f"{plan.total % 100:02d}"
    assert row["terms_hash"] == plan.terms_hash


def test_since_leaves_out_what_came_before(runner, account):
    _posted_payment(account, 12_345, "k1")
    agree(account)
    _db.session.commit()
    for kind in ("plans", "payments"):
        result = runner.invoke(args=["exports", kind, "--since", "2026-11-29"])
        assert result.exit_code == 0, result.output
        assert len(list(csv.DictReader(io.StringIO(result.output)))) == 0


def test_unposted_payments_and_proposals_are_not_exported(runner, account):
    _db.session.add(Payment(account_id=account.id, choice=PaymentChoice.OVERDUE, amount=50_000,
                            currency="CNY", provider="sandbox", idempotency_key="open"))
    _db.session.commit()
    result = runner.invoke(args=["exports", "payments", "--since", "2000-01-01"])
    assert result.output.splitlines() == [",".join(PAYMENT_COLUMNS)]


def test_a_bad_date_is_a_clear_error(runner):
    result = runner.invoke(args=["exports", "plans", "--since", "28/11/2026"])
    assert result.exit_code == 2
    assert "is not a date in the form YYYY-MM-DD" in result.output
