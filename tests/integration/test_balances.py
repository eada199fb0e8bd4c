"""Balances are sums of the ledger as of a date."""
from datetime import date

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.extensions import db as _db


def test_balance_sums_ledger_per_component_as_of_a_date(make_account):
    account = make_account(principal=100_000, interest=2_000, fees=500, minimum_due=10_000,
                           oldest_unpaid_due_date=date(2026, 10, 1), effective=date(2026, 11, 1))
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.INTEREST,
                                component=Component.INTEREST, amount=55, currency="CNY",
                                effective_date=date(2026, 11, 20), source_ref="t:1"))
    _db.session.commit()
    before = balance_of(account, date(2026, 11, 19))
    after = balance_of(account, date(2026, 11, 20))
    assert (before.principal, before.interest, before.fees) == (100_000, 2_000, 500)
    assert after.interest == 2_055 and after.total == 102_555
    assert after.overdue == 10_000
    assert after.days_past_due == 50


def test_payment_after_statement_reduces_overdue_and_clears_days_late(make_account):
    account = make_account(principal=100_000, minimum_due=10_000,
                           oldest_unpaid_due_date=date(2026, 10, 1), effective=date(2026, 11, 1))
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                                component=Component.PRINCIPAL, amount=-10_000, currency="CNY",
                                effective_date=date(2026, 11, 5), source_ref="pay:1"))
    _db.session.commit()
    assert balance_of(account, date(2026, 11, 4)).days_past_due == 34
    paid = balance_of(account, date(2026, 11, 5))
    assert paid.overdue == 0 and paid.days_past_due == 0 and paid.total == 90_000
