"""The set-based feed import gives exactly what the row-by-row import gives.

One varied story of feeds (new accounts, shared cardholders, changes, an enrolled cardholder,
unchanged rows, every kind of reject, applied_portal_ids and the old-feed date rule, an account
named twice in one file, a replay) runs twice on an empty database: through the row-by-row
import as it was before the set-based loader (`_rowwise_import_rows`, its loop verbatim), and
through today's import. The results, the rejects files byte for byte, the cardholders,
accounts, ledger, acknowledgements and the import's audit events must be the same, and the
audit log must verify after each.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.accounts.models import Account, Cardholder, LedgerEntry
from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.journal import importer
from portal.journal.feed_result import ImportResult
from portal.journal.feed_rules import FIELDS, RowError, validate_row
from portal.journal.models import JournalAck
from portal.journal.rowwise import commit_batch
from portal.journal.rules import movement_id
from tests.helpers import empty_tables
from tests.integration.journal_helpers import pay
from tests.integration.test_import import feed_row, write_csv, write_jsonl


def _rowwise_import_rows(rows, *, on_reject=None, batch_size=importer.BATCH_SIZE,
                         progress=None):
    """import_rows as it was before the set-based loader: validate, batch, commit row by row."""
    result = ImportResult()

    def reject(raw, reason):
        result.rejected += 1
        if len(result.rejects) < 1000:
            result.rejects.append((raw.line, reason))
        if on_reject:
            on_reject(raw, reason)

    batch = []
    for raw in rows:
        result.read += 1
        if raw.problem:
            reject(raw, f"the row {raw.problem}")
        else:
            try:
                batch.append((raw, validate_row(raw.values)))
            except RowError as exc:
                reject(raw, exc.reason)
        if len(batch) >= batch_size:
            commit_batch(batch, result, reject)
            batch = []
    if batch:
        commit_batch(batch, result, reject)
    return result


def _at(day: int, hour: int = 4) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


def _number(n: int) -> str:
    return feed_row(n)["account_number"]


def _entry_keys(db) -> dict[int, str]:
    """Ledger entry id -> a name that does not depend on ids (payments' source references
    hold payment ids): account number, kind, component and amount."""
    return {entry_id: f"{number}/{kind}/{component}/{amount}"
            for entry_id, number, kind, component, amount in db.session.execute(
                select(LedgerEntry.id, Account.account_number, LedgerEntry.kind,
                       LedgerEntry.component, LedgerEntry.amount).join(Account))}


def _story(db, clock, tmp_path, batch_size: int) -> dict:
    """Run the feeds; return what they left, with ids replaced by stable names."""
    empty_tables()
    tmp_path.mkdir()
    out: dict = {"results": [], "rejects": []}

    def run(name, path):
        result = importer.import_file(str(path), batch_size=batch_size)
        out["results"].append((name, result.summary(), result.rejects))
        rejects = result.rejects_path
        out["rejects"].append(open(rejects, encoding="utf-8").read() if rejects else None)

    clock.move_to(_at(27))
    rows = [feed_row(n) for n in range(1, 9)]
    rows[1] = feed_row(2, cardholder_id="C00001", full_name="Holder 1 Second Card")  # shared
    rows += [feed_row(20, phone="12345"), feed_row(21, currency="XXQ", email=""),
             {**feed_row(22), "principal": "-5"}]
    run("first", write_csv(tmp_path / "first.csv", rows, bom=True))
    # A ragged line the CSV reader reports itself.
    with open(tmp_path / "first.csv", "a", encoding="utf-8") as fh:
        fh.write("only,three,cells\n")
    run("first again", tmp_path / "first.csv")

    clock.move_to(_at(28))
    accounts = {a.account_number: a for a in db.session.scalars(select(Account))}
    paid_1 = pay(accounts[_number(1)], 50_000, "p1", _at(28))
    paid_2 = pay(accounts[_number(2)], 20_000, "p2", _at(28))
    pay(accounts[_number(3)], 10_000, "p3", _at(28))
    enrolled = db.session.scalar(select(Cardholder).where(Cardholder.customer_id == "C00004"))
    enrolled.password_hash = "x"
    db.session.commit()
    ids_1 = [e.id for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == paid_1.account_id, LedgerEntry.kind == "payment"))]
    other = [e.id for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == paid_2.account_id, LedgerEntry.kind == "payment"))]
    statement = db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.account_id == paid_1.account_id, LedgerEntry.kind == "statement_balance"))

    clock.move_to(_at(29))
    header = [*FIELDS, "applied_portal_ids"]
    second = [
        feed_row(1, as_of="2026-11-29", principal="7700.50",
                 applied_portal_ids=" ".join(movement_id(i) for i in ids_1)),
        feed_row(2, cardholder_id="C00001", full_name="Holder 1 Second Card",
                 as_of="2026-11-29", applied_portal_ids=""),
        feed_row(4, as_of="2026-11-29", locale="zh_Hans", phone="+8613900000004"),
        feed_row(5, cardholder_id="C00006", as_of="2026-11-29"),  # moves to an existing holder
        feed_row(6, cardholder_id="C00099", full_name="New Holder", as_of="2026-11-29"),
        feed_row(7, as_of="2026-11-26"),  # older than loaded: refused
        feed_row(8, as_of="2026-11-29", applied_portal_ids=movement_id(statement)),
        feed_row(3, as_of="2026-11-29", currency="USD"),  # currency under entries: refused
        feed_row(9, as_of="2026-11-29"),
        feed_row(10, as_of="2026-11-29", applied_portal_ids=movement_id(other[0])),
        feed_row(11, as_of="2026-11-29", email="not an email"),
        feed_row(12, cardholder_id="C00099", full_name="New Holder Again", as_of="2026-11-29"),
    ]
    run("second", write_csv(tmp_path / "second.csv", second, header=header))
    run("second replayed", tmp_path / "second.csv")

    clock.move_to(_at(30))
    # An old feed (no applied_portal_ids), days later: the date rule acknowledges payments.
    old = [feed_row(n, as_of="2026-12-02") for n in (2, 3, 4)]
    old.append("{not json")
    old.append('["a list"]')
    run("old feed", write_jsonl(tmp_path / "old.jsonl", old))
    # One account twice in a file: the second row sees the first.
    twice = [feed_row(13, as_of="2026-12-02"), feed_row(14, as_of="2026-12-02"),
             feed_row(13, as_of="2026-12-03", principal="9000")]
    run("twice", write_csv(tmp_path / "twice.csv", twice))

    names = _entry_keys(db)
    holders = {h.id: h.customer_id for h in db.session.scalars(select(Cardholder))}
    out["holders"] = sorted(
        (h.customer_id, h.full_name, h.date_of_birth, h.phone, h.email, h.locale, h.timezone,
         h.created_at, h.updated_at) for h in db.session.scalars(select(Cardholder)))
    numbers = {}
    out["accounts"] = []
    for a in db.session.scalars(select(Account).order_by(Account.account_number)):
        numbers[a.id] = a.account_number
        out["accounts"].append((a.account_number, holders[a.cardholder_id], a.card_last4,
                                a.currency, a.credit_limit, a.policy_profile, a.status,
                                a.minimum_due, a.oldest_unpaid_due_date, a.feed_as_of,
                                a.created_at))
    out["ledger"] = sorted(
        (numbers[e.account_id], e.kind, e.component, e.amount, e.currency, e.effective_date,
         re.sub(r"^payment:[0-9]+", "payment", e.source_ref), e.posted_at)
        for e in db.session.scalars(select(LedgerEntry)))
    out["acks"] = sorted((names[k.ledger_entry_id], numbers[k.account_id], k.feed_as_of,
                          k.source, k.recorded_at) for k in db.session.scalars(select(JournalAck)))
    checked, broken = verify_chain()
    assert broken is None and checked
    events = []
    for e in db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == "import")
                                .order_by(AuditEvent.id)):
        after = dict(e.after or {})
        if "applied_portal_ids" in after:
            after["applied_portal_ids"] = [names[int(i[2:])] for i in after["applied_portal_ids"]]
        events.append((numbers[int(e.subject_id)], e.stream == f"account:{e.subject_id}",
                       e.seq, e.action, e.actor_type, e.subject_type, e.before, after,
                       e.created_at))
    out["events"] = events
    # Movement ids depend on the database's sequences: name them by what they are.
    def stable(text):
        return None if text is None else re.sub(
            r"PM([0-9]+)", lambda m: names.get(int(m[1]), m[0]), str(text))
    out["results"] = [(name, summary, [(line, stable(reason)) for line, reason in rejects])
                      for name, summary, rejects in out["results"]]
    out["rejects"] = [stable(text) for text in out["rejects"]]
    return out


@pytest.mark.parametrize("batch_size", [500, 2])
def test_set_based_import_matches_the_row_by_row_import(db, clock, tmp_path, monkeypatch,
                                                        batch_size):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 4)  # several chunks, some split mid-file
    new = _story(db, clock, tmp_path / "new", batch_size)
    with monkeypatch.context() as patched:
        patched.setattr(importer, "import_rows", _rowwise_import_rows)
        old = _story(db, clock, tmp_path / "old", batch_size)
    for part in old:
        assert new[part] == old[part], part
    # The story reaches every branch it is meant to.
    summaries = " | ".join(summary for _, summary, _ in new["results"])
    assert "created 8" in summaries and "unchanged 6" in summaries
    assert any(k[3] == "old_feed" for k in new["acks"]) and any(k[3] == "feed" for k in new["acks"])
    assert any("twice" == name for name, _, _ in new["results"])
