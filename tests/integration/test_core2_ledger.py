"""The ledger is append-only: editing or deleting an entry through the ORM is refused and
changes nothing; corrections are new entries."""
from datetime import date

import pytest
from sqlalchemy import delete, select, text, update

from portal.accounts.models import Component, EntryKind, LedgerEntry, LedgerImmutable
from portal.extensions import db as _db


def _stored(account):
    """The account's ledger as the database holds it (not as the session remembers it)."""
    rows = _db.session.execute(text(
        "SELECT id, amount, source_ref FROM ledger_entry WHERE account_id = :a ORDER BY id"),
        {"a": account.id})
    return [tuple(row) for row in rows]


def _fee(account) -> LedgerEntry:
    return _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == account.id, LedgerEntry.component == Component.FEE)).one()


@pytest.fixture()
def ledger(make_account):
    account = make_account(principal=500_000, fees=2_500)
    return account, _stored(account)


def _edit(entry):
    entry.amount = 1


@pytest.mark.parametrize("change, refusal", [(_edit, "cannot be edited"),
                                             (lambda entry: _db.session.delete(entry),
                                              "cannot be deleted")],
                         ids=["edit", "delete"])
def test_editing_or_deleting_a_ledger_entry_is_refused_and_changes_nothing(ledger, change,
                                                                            refusal):
    account, before = ledger
    entry = _fee(account)
    change(entry)
    with pytest.raises(LedgerImmutable, match=f"ledger entry {entry.id} {refusal}"):
        _db.session.commit()
    _db.session.rollback()
    assert _stored(account) == before


def test_a_correction_is_a_new_entry_beside_the_original(ledger):
    account, before = ledger
    fee = _fee(account)
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.REVERSAL,
                                component=Component.FEE, amount=-fee.amount,
                                currency=fee.currency, effective_date=date(2026, 11, 2),
                                source_ref="test-correction", reversal_of_id=fee.id))
    _db.session.commit()
    after = _stored(account)
    assert after[:len(before)] == before
    assert after[-1][1:] == (-2_500, "test-correction")


@pytest.mark.parametrize("statement", [
    lambda account: update(LedgerEntry).where(LedgerEntry.account_id == account.id)
    .values(amount=1),
    lambda account: delete(LedgerEntry).where(LedgerEntry.account_id == account.id),
], ids=["update", "delete"])
def test_bulk_statements_on_the_ledger_are_refused_and_change_nothing(ledger, statement):
    account, before = ledger
    with pytest.raises(LedgerImmutable, match="cannot be edited or deleted"):
        _db.session.execute(statement(account))
    _db.session.rollback()
    assert _stored(account) == before


@pytest.mark.postgres
def test_postgresql_refuses_raw_updates_and_deletes_of_ledger_and_audit_rows(db, make_account):
    # Not only the ORM: any client is refused by trigger (migration 0016).
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from portal.audit.services import record

    make_account(principal=10_000)
    record("test.something", subject_type="test")
    db.session.commit()
    for sql in ("UPDATE ledger_entry SET amount = 1", "DELETE FROM ledger_entry",
                "UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
