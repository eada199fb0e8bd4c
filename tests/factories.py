"""Factory fixtures: small, explicit builders for the rows tests need."""
from __future__ import annotations

import itertools
from datetime import date

import pyotp
import pytest
from werkzeug.security import generate_password_hash

from portal.accounts.models import Account, Cardholder, Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.staff.models import Role, StaffRole, StaffUser

_seq = itertools.count(1)
# Cheap hashing in tests; production uses werkzeug's default (scrypt).
FAST_HASH = "pbkdf2:sha256:1000"


def _letters(n: int) -> str:
    word = ""
    while True:
        n, rest = divmod(n, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[rest] + word
        if n == 0:
            return word.capitalize()


@pytest.fixture()
def make_cardholder(db):
    def _make(*, password=None, phone="auto", email="auto", locale="en",
              timezone="Asia/Shanghai", date_of_birth=date(1985, 4, 12), **extra):
        n = next(_seq)
        holder = Cardholder(
            customer_id=extra.pop("customer_id", f"C{n:06d}"),
            # Letters, not digits: a number in the name would be a "personal" word that the
            # password policy refuses inside passwords such as password123456.
            full_name=extra.pop("full_name", f"Test Holder {_letters(n)}"),
            date_of_birth=date_of_birth,
            phone=f"+8613800{n:06d}" if phone == "auto" else phone,
            email=f"holder{n}@example.com" if email == "auto" else email,
            locale=locale,
            timezone=timezone,
            **extra,
        )
        if password:
            holder.password_hash = generate_password_hash(password, FAST_HASH)
            holder.enrolled_at = date(2026, 1, 1)
        _db.session.add(holder)
        _db.session.commit()
        return holder
    return _make


@pytest.fixture()
def make_account(db, make_cardholder):
    def _make(cardholder=None, *, currency="CNY", profile="cn", principal=500_000,
              interest=0, fees=0, minimum_due=50_000, oldest_unpaid_due_date=None,
              credit_limit=2_000_000, card_last4="4242", effective=date(2026, 11, 1), **extra):
        holder = cardholder or make_cardholder()
        n = next(_seq)
        account = Account(
            account_number=extra.pop("account_number", f"62{n:010d}"),
            card_last4=card_last4, cardholder=holder, currency=currency,
            credit_limit=credit_limit, policy_profile=profile, minimum_due=minimum_due,
            oldest_unpaid_due_date=oldest_unpaid_due_date, feed_as_of=effective, **extra,
        )
        _db.session.add(account)
        _db.session.flush()
        for component, amount in ((Component.PRINCIPAL, principal), (Component.INTEREST, interest),
                                  (Component.FEE, fees)):
            if amount:
                _db.session.add(LedgerEntry(
                    account_id=account.id, kind=EntryKind.STATEMENT_BALANCE, component=component,
                    amount=amount, currency=currency, effective_date=effective,
                    source_ref=f"test-opening:{component.value}"))
        _db.session.commit()
        return account
    return _make


@pytest.fixture()
def make_staff(db):
    def _make(*roles, email=None, password="staff-Password-2026", name=None):
        n = next(_seq)
        staff = StaffUser(
            email=email or f"staff{n}@issuer.example",
            name=name or f"Staff {n}",
            password_hash=generate_password_hash(password, FAST_HASH),
            totp_secret=pyotp.random_base32(),
            role_rows=[StaffRole(role=Role(r)) for r in (roles or ("collector",))],
        )
        _db.session.add(staff)
        _db.session.commit()
        return staff
    return _make
