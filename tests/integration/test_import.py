"""`flask accounts import`: loading the issuer's feed into cardholders, accounts and the ledger."""
import csv
import gc
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.journal.feed_io import FeedFileError
from portal.journal.feed_rules import FIELDS
from portal.journal.importer import import_file
from portal.accounts.models import Account, Cardholder, Component, EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.audit.services import GENESIS


def feed_row(n=1, **changes):
    row = {
        "account_number": f"62220200000{n:05d}", "card_last4": f"{n % 10000:04d}",
        "cardholder_id": f"C{n:05d}", "full_name": f"Holder {n}", "date_of_birth": "1985-03-14",
        "phone": f"+86138{n:08d}", "email": f"holder{n}@example.com", "locale": "en",
        "timezone": "Asia/Shanghai", "policy_profile": "cn", "currency": "CNY",
        "credit_limit": "50000", "principal": "8200.50", "interest": "12.30", "fees": "100",
        "minimum_due": "820", "oldest_unpaid_due_date": "2026-10-01", "as_of": "2026-11-28",
    }
    row.update(changes)
    return row


def write_csv(path, rows, header=FIELDS, bom=False):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(f, "") for f in header])
    return str(path)


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return str(path)


def run_import(runner, path, *extra):
    return runner.invoke(args=["accounts", "import", path, *extra])


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def component_sums(db, number):
    rows = db.session.execute(
        select(LedgerEntry.component, func.sum(LedgerEntry.amount))
        .join(Account).where(Account.account_number == number).group_by(LedgerEntry.component))
    return {c.value: int(total) for c, total in rows}


def test_csv_feed_creates_cardholders_accounts_and_opening_balances(runner, db, tmp_path):
    path = write_csv(tmp_path / "feed.csv", [feed_row(1), feed_row(2, currency="USD",
                                                                    policy_profile="us")])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "rows read 2, created 2, updated 0, unchanged 0, rejected 0, ledger entries posted 6" \
        in result.output
    account = db.session.scalar(select(Account).where(Account.account_number == "6222020000000001"))
    assert (account.card_last4, account.currency, account.credit_limit) == ("0001", "CNY", 5_000_000)
    assert account.minimum_due == 82000 and account.feed_as_of == date(2026, 11, 28)
    assert account.oldest_unpaid_due_date == date(2026, 10, 1)
    assert account.cardholder.phone == "+8613800000001"
    assert component_sums(db, "6222020000000001") == {"principal": 820050, "interest": 1230,
                                                      "fee": 10000}
    kinds = set(db.session.scalars(select(LedgerEntry.kind)))
    assert kinds == {EntryKind.STATEMENT_BALANCE}
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions == ["account.feed_created", "account.feed_created"]
    assert not (tmp_path / "feed.csv.rejects.csv").exists()


def test_jsonl_feed_loads_like_csv_and_numbers_are_never_floats(runner, db, tmp_path):
    row = feed_row(3)
    row["principal"] = 0.1  # a JSON number: must arrive as the exact text 0.1
    row["credit_limit"] = 5000
    path = write_jsonl(tmp_path / "feed.jsonl", [row])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert component_sums(db, row["account_number"])["principal"] == 10
    assert db.session.scalar(select(Account.credit_limit)) == 500_000


def test_format_is_sniffed_when_the_extension_says_nothing(runner, db, tmp_path):
    jsonl = write_jsonl(tmp_path / "feed.txt", [feed_row(4)])
    csv_path = write_csv(tmp_path / "feed.dat", [feed_row(5)])
    assert run_import(runner, jsonl).exit_code == 0
    assert run_import(runner, csv_path).exit_code == 0
    assert count(db, Account) == 2


def test_utf8_bom_is_tolerated(runner, db, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [feed_row(6, full_name="王芳")], bom=True)
    assert run_import(runner, path).exit_code == 0
    assert db.session.scalar(select(Cardholder.full_name)) == "王芳"


def test_reimporting_the_same_file_changes_nothing(runner, db, tmp_path):
    path = write_csv(tmp_path / "feed.csv", [feed_row(n) for n in range(1, 6)])
    assert run_import(runner, path).exit_code == 0
    entries, events, holders = count(db, LedgerEntry), count(db, AuditEvent), count(db, Cardholder)
    again = run_import(runner, path)
    assert again.exit_code == 0
    assert "created 0, updated 0, unchanged 5, rejected 0, ledger entries posted 0" in again.output
    assert (count(db, LedgerEntry), count(db, AuditEvent), count(db, Cardholder)) == (
        entries, events, holders)


def test_changed_balance_posts_adjustments_so_the_ledger_sums_to_the_new_feed(runner, db, tmp_path):
    number = feed_row(7)["account_number"]
    assert run_import(runner, write_csv(tmp_path / "a.csv", [feed_row(7)])).exit_code == 0
    changed = feed_row(7, principal="7000.00", interest="50.00", as_of="2026-11-29",
                       minimum_due="900")
    result = run_import(runner, write_csv(tmp_path / "b.csv", [changed]))
    assert result.exit_code == 0
    assert "updated 1" in result.output and "ledger entries posted 2" in result.output
    assert component_sums(db, number) == {"principal": 700000, "interest": 5000, "fee": 10000}
    adjustments = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ADJUSTMENT)).all()
    assert sorted(e.amount for e in adjustments) == [-120050, 3770]
    assert all(e.effective_date == date(2026, 11, 29) for e in adjustments)
    account = db.session.scalar(select(Account))
    assert account.minimum_due == 90000 and account.feed_as_of == date(2026, 11, 29)
    # Back to the first balance on the same day: new entries, no clash of source references.
    back = feed_row(7, as_of="2026-11-29", minimum_due="900")
    assert run_import(runner, write_csv(tmp_path / "c.csv", [back])).exit_code == 0
    assert component_sums(db, number) == {"principal": 820050, "interest": 1230, "fee": 10000}
    updated = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.feed_updated").order_by(AuditEvent.id)).all()
    assert len(updated) == 2
    assert updated[0].after["ledger"] == {"principal": -120050, "interest": 3770}


def test_changed_personal_details_update_the_cardholder_but_keep_the_password(
        runner, db, tmp_path, make_cardholder):
    holder = make_cardholder(customer_id="C00008", password="Correct-Horse-42", locale="zh_Hans")
    holder_id, password_hash = holder.id, holder.password_hash
    row = feed_row(8, phone="+8613900000008", full_name="New Name", locale="en")
    assert run_import(runner, write_csv(tmp_path / "f.csv", [row])).exit_code == 0
    db.session.expire_all()
    holder = db.session.get(Cardholder, holder_id)
    assert (holder.phone, holder.full_name) == ("+8613900000008", "New Name")
    assert holder.password_hash == password_hash
    assert holder.locale == "zh_Hans"  # chosen in the portal by an enrolled cardholder


def test_bad_rows_are_rejected_with_line_numbers_and_good_rows_load(runner, db, tmp_path):
    rows = [feed_row(1), feed_row(2, currency="ABC"), feed_row(3),
            feed_row(4, full_name="Multi\nline", principal="-5"), feed_row(5, email="nope")]
    path = write_csv(tmp_path / "feed.csv", rows)
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "rows read 5, created 2, updated 0, unchanged 0, rejected 3" in result.output
    assert "line 3: currency 'ABC' is not a known ISO 4217 currency code" in result.output
    # The quoted name spans lines 5 and 6, so the next row starts on physical line 7.
    assert "line 5: principal -5 is negative" in result.output
    assert "line 7: email 'nope' is not a valid email address" in result.output
    with open(tmp_path / "feed.csv.rejects.csv", encoding="utf-8", newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert [r["line"] for r in rejects] == ["3", "5", "7"]
    assert rejects[1]["full_name"] == "Multi\nline" and "negative" in rejects[1]["reason"]
    assert rejects[0]["account_number"] == rows[1]["account_number"]
    assert count(db, Account) == 2


def test_jsonl_rejects_keep_the_object_and_report_broken_lines(runner, db, tmp_path):
    rows = [feed_row(1), "{not json", "", feed_row(2, card_last4="12")]
    path = write_jsonl(tmp_path / "feed.ndjson", rows)
    out = tmp_path / "out"
    out.mkdir()
    result = run_import(runner, path, "--rejects", str(out / "bad.jsonl"))
    assert result.exit_code == 1
    rejects = [json.loads(line) for line in (out / "bad.jsonl").read_text("utf-8").splitlines()]
    assert [(r["line"], r["reason"][:22]) for r in rejects] == [
        (2, "the row is not valid J"), (4, "card_last4 '12' is not")]
    assert rejects[0]["raw"] == "{not json"
    assert rejects[1]["account_number"] == feed_row(2)["account_number"]


def test_row_older_than_loaded_data_is_rejected_as_stale(runner, db, tmp_path):
    assert run_import(runner, write_csv(tmp_path / "new.csv", [feed_row(1)])).exit_code == 0
    old = feed_row(1, principal="1.00", as_of="2026-11-27")
    result = run_import(runner, write_csv(tmp_path / "old.csv", [old]))
    assert result.exit_code == 1
    assert ("line 2: as_of 2026-11-27 is older than data already loaded for this account "
            "(2026-11-28)") in result.output
    assert component_sums(db, old["account_number"])["principal"] == 820050


def test_currency_cannot_change_under_existing_ledger_entries(runner, db, tmp_path):
    assert run_import(runner, write_csv(tmp_path / "a.csv", [feed_row(1)])).exit_code == 0
    result = run_import(runner, write_csv(tmp_path / "b.csv", [feed_row(1, currency="USD")]))
    assert result.exit_code == 1
    assert "currency cannot change from CNY to USD" in result.output
    assert db.session.scalar(select(Account.currency)) == "CNY"


def test_unreadable_file_or_wrong_header_exits_2_and_loads_nothing(runner, db, tmp_path):
    missing = run_import(runner, str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "Cannot import" in missing.output
    header = write_csv(tmp_path / "h.csv", [feed_row(1)], header=[f for f in FIELDS if f != "email"])
    wrong = run_import(runner, header)
    assert wrong.exit_code == 2 and "the header row lacks email" in wrong.output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(open(write_csv(tmp_path / "x.csv", [feed_row(1)]), "rb").read()
                       + "Müller".encode("latin-1"))
    assert run_import(runner, str(latin1)).exit_code == 2
    assert count(db, Account) == 0


def test_batches_commit_and_the_same_account_twice_in_one_file_posts_the_difference(
        runner, db, tmp_path):
    rows = [feed_row(n) for n in range(1, 8)] + [feed_row(1, principal="9000.00")]
    result = run_import(runner, write_csv(tmp_path / "f.csv", rows), "--batch-size", "3")
    assert result.exit_code == 0, result.output
    assert "rows read 8, created 7, updated 1" in result.output
    assert component_sums(db, feed_row(1)["account_number"])["principal"] == 900000
    assert count(db, AuditEvent) == 8


def test_cardholder_with_two_accounts_is_one_cardholder(runner, db, tmp_path):
    rows = [feed_row(1), feed_row(2, cardholder_id=feed_row(1)["cardholder_id"])]
    assert run_import(runner, write_csv(tmp_path / "f.csv", rows)).exit_code == 0
    holder = db.session.scalar(select(Cardholder))
    assert count(db, Cardholder) == 1 and len(holder.accounts) == 2


def test_import_keeps_the_audit_chain_intact(runner, db, tmp_path):
    assert run_import(runner, write_csv(tmp_path / "f.csv", [feed_row(1), feed_row(2)])).exit_code == 0
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "2 audit events" in verify.output


def test_batched_audit_events_are_in_file_order_each_in_its_accounts_stream(runner, db, tmp_path):
    rows = [feed_row(n) for n in range(1, 12)]
    result = run_import(runner, write_csv(tmp_path / "f.csv", rows), "--batch-size", "4")
    assert result.exit_code == 0, result.output
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    numbers = {str(a.id): a.account_number for a in db.session.scalars(select(Account))}
    assert [numbers[e.subject_id] for e in events] == [r["account_number"] for r in rows]
    assert all((e.stream, e.seq, e.prev_hash) == (f"account:{e.subject_id}", 1, GENESIS)
               for e in events)
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "11 audit events" in verify.output



def test_a_portal_payment_after_the_feed_date_survives_the_next_import(runner, db, tmp_path):
    """The feed is the issuer's view as of its date; a later portal payment is not in it."""
    path = write_csv(tmp_path / "feed.csv", [feed_row(as_of="2026-11-01")])
    assert run_import(runner, path).exit_code == 0
    account = db.session.scalar(select(Account))
    db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                               component=Component.PRINCIPAL, amount=-10_000, currency="CNY",
                               effective_date=date(2026, 11, 20), source_ref="payment:1"))
    db.session.commit()
    # the same figures, stated as of a date before the payment
    path = write_csv(tmp_path / "feed.csv", [feed_row(as_of="2026-11-10")])
    assert run_import(runner, path).exit_code == 0
    assert component_sums(db, account.account_number)["principal"] == 820_050 - 10_000


def test_import_holds_the_cyclic_collector_off_while_it_runs_and_restores_it(db, tmp_path):
    # What portal.bulk.gc_paused promises the feed import: no collector passes over the
    # batch's objects while rows are applied, and the process's setting given back after,
    # whether it was on or off, and when the import fails too.
    path = write_csv(tmp_path / "feed.csv", [feed_row(1), feed_row(2)])
    seen = []
    assert gc.isenabled()
    result = import_file(str(path), progress=lambda line: seen.append(gc.isenabled()))
    assert result.created == 2 and seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        import_file(str(path))
        assert not gc.isenabled()
    finally:
        gc.enable()
    broken = write_csv(tmp_path / "broken.csv", [feed_row(3)], header=["nothing"])
    with pytest.raises(FeedFileError):
        import_file(str(broken))
    assert gc.isenabled()
