"""An unchanged replay of a feed skips its rows (portal/journal/replay.py) only while applying
them would change nothing."""
from datetime import date

from sqlalchemy import ARRAY, any_, cast, select

from portal.accounts.models import Account, Cardholder, Component, EntryKind, LedgerEntry
from portal.journal import importer
from tests.integration.test_import import component_sums, feed_row, write_csv, write_jsonl


def _import(path, monkeypatch):
    """import_file, returning its result and how many rows it validated."""
    validated = []
    real = importer.validate_row

    def counting(values, known=None):
        validated.append(values["account_number"])
        return real(values, known)

    monkeypatch.setattr(importer, "validate_row", counting)
    return importer.import_file(path), validated


def test_an_unchanged_replay_counts_every_row_unchanged_without_validating_it(
        db, tmp_path, monkeypatch):
    # Rows 1 and 2 share a cardholder; row 9 is refused and stays refused.
    one = feed_row(1)
    shared = {f: one[f] for f in ("cardholder_id", "full_name", "phone", "email")}
    rows = [one, feed_row(2, **shared), feed_row(3), feed_row(9, phone="12345", email="")]
    path = write_csv(tmp_path / "feed.csv", rows)
    first, validated = _import(path, monkeypatch)
    assert (first.created, first.rejected, len(validated)) == (3, 1, 4)
    again, validated = _import(path, monkeypatch)
    assert (again.read, again.unchanged, again.rejected, again.entries_posted) == (4, 3, 1, 0)
    assert validated == [feed_row(9)["account_number"]]  # never applied: checked again
    assert again.rejects == first.rejects


def test_a_row_is_applied_again_once_the_portal_changed_what_it_sets(db, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "feed.csv", [feed_row(1), feed_row(2)])
    _import(path, monkeypatch)
    holder = db.session.scalar(select(Cardholder).where(Cardholder.customer_id == "C00001"))
    holder.phone = "+8613900000777"  # changed in the portal since the feed
    db.session.commit()
    again, validated = _import(path, monkeypatch)
    assert validated == [feed_row(1)["account_number"]]
    assert (again.updated, again.unchanged) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Cardholder, holder.id).phone == feed_row(1)["phone"]


def test_a_new_ledger_entry_sends_the_row_through_the_checks_again(db, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "feed.csv", [feed_row(1, as_of="2026-11-01")])
    _import(path, monkeypatch)
    account = db.session.scalar(select(Account))
    # A nightly entry: in the issuer's figures up to the feed's date.
    db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.ADJUSTMENT,
                               component=Component.PRINCIPAL, amount=-10_000, currency="CNY",
                               effective_date=date(2026, 10, 20), source_ref="nightly:test:1"))
    db.session.commit()
    again, validated = _import(path, monkeypatch)
    assert len(validated) == 1 and again.updated == 1 and again.entries_posted == 1
    assert component_sums(db, account.account_number)["principal"] == 820_050


def test_a_row_after_one_that_changed_its_cardholder_is_not_skipped(db, tmp_path, monkeypatch):
    one = feed_row(1)
    two = feed_row(2, **{f: one[f] for f in ("cardholder_id", "full_name", "phone", "email")})
    _import(write_csv(tmp_path / "a.csv", [one, two]), monkeypatch)
    # Row 1 renames the shared cardholder, row 2 (as loaded before) names it back.
    path = write_csv(tmp_path / "b.csv", [feed_row(1, full_name="Renamed"), two])
    again, validated = _import(path, monkeypatch)
    assert len(validated) == 2 and again.updated == 2
    assert db.session.scalar(select(Cardholder.full_name).where(
        Cardholder.customer_id == "C00001")) == "Holder 1"


def test_a_first_load_keeps_no_digest_for_a_row_whose_new_cardholder_a_later_row_changed(
        db, tmp_path, monkeypatch):
    # Both rows create the accounts and their shared cardholder in one chunk; row 2 renames
    # it. Row 1's values are not what the chunk leaves, so replaying the file applies row 1
    # again (naming the cardholder back) and then row 2, as the row-by-row import would.
    one = feed_row(1)
    two = feed_row(2, full_name="Renamed",
                   **{f: one[f] for f in ("cardholder_id", "phone", "email")})
    path = write_csv(tmp_path / "feed.csv", [one, two])
    first, _ = _import(path, monkeypatch)
    assert first.created == 2
    again, validated = _import(path, monkeypatch)
    assert len(validated) == 2 and (again.updated, again.unchanged) == (2, 0)
    assert db.session.scalar(select(Cardholder.full_name).where(
        Cardholder.customer_id == "C00001")) == "Renamed"
    third, validated = _import(path, monkeypatch)
    assert len(validated) == 2 and third.updated == 2


def test_a_jsonl_feed_replays_the_same_way(db, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "feed.jsonl", [feed_row(1), feed_row(2)])
    _import(path, monkeypatch)
    again, validated = _import(path, monkeypatch)
    assert (again.unchanged, validated) == (2, [])


def _replay_story(db, tmp_path, monkeypatch) -> list:
    """Imports, replays and portal changes between them: what each import reports and which
    rows it validated (the rows it did not skip)."""
    from tests.helpers import empty_tables

    empty_tables()
    tmp_path.mkdir()
    rows = [feed_row(n) for n in range(1, 41)]
    for n in range(0, 40, 4):  # every fourth account shares the next one's cardholder
        rows[n + 1].update({f: rows[n][f] for f in ("cardholder_id", "full_name", "phone",
                                                     "email")})
    first = write_csv(tmp_path / "first.csv", rows)
    seen = []

    def run(path):
        result, validated = _import(path, monkeypatch)
        seen.append((result.summary(), sorted(validated)))

    run(first)
    run(first)
    for n in (3, 7, 20):  # the portal changes a phone, a balance and enrols a cardholder
        holder = db.session.scalar(select(Cardholder).where(
            Cardholder.customer_id == rows[n]["cardholder_id"]))
        holder.phone = "+8613900000777"
    account = db.session.scalar(select(Account).where(
        Account.account_number == rows[11]["account_number"]))
    db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.ADJUSTMENT,
                               component=Component.INTEREST, amount=-100, currency="CNY",
                               effective_date=date(2026, 11, 2), source_ref="nightly:diff:1"))
    db.session.scalar(select(Cardholder).where(
        Cardholder.customer_id == rows[30]["cardholder_id"])).password_hash = "x"
    db.session.commit()
    run(first)
    run(first)
    changed = [dict(row, principal="9000.00") if n % 3 == 0 else row
               for n, row in enumerate(rows)]
    changed[5]["full_name"] = "Renamed"
    second = write_csv(tmp_path / "second.csv", changed)
    run(second)
    run(second)
    run(first)  # balances back down
    run(first)
    return seen


def test_the_digests_compared_in_the_server_skip_what_the_python_comparison_skips(
        db, tmp_path, monkeypatch):
    # Differential: the same story with the replay's old path (digests read and hashed in
    # Python) and today's (on PostgreSQL, compared in the server); on SQLite both are Python.
    from portal.journal import replay

    in_server = _replay_story(db, tmp_path / "server", monkeypatch)
    if replay.is_postgres():  # the Python path's reads as it ran them there (array parameters)
        monkeypatch.setattr(replay, "_in", lambda column, values: column == any_(
            cast(values, ARRAY(column.type))))
    monkeypatch.setattr(replay, "is_postgres", lambda: False)
    in_python = _replay_story(db, tmp_path / "python", monkeypatch)
    assert in_server == in_python
    skipped = [summary for summary, _ in in_server if "unchanged 0," not in summary]
    assert len(skipped) >= 4  # the replays did skip rows
