"""Building blocks for tests of the journal with the issuer: feeds, payments, clocks."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

from portal.journal.feed_io import RawRow
from portal.journal.importer import import_rows
from portal.accounts.models import Account, LedgerEntry
from portal.domain.money import to_major
from portal.extensions import db as _db
from portal.journal.rules import movement_id
from portal.payments.models import Payment, PaymentChoice
from portal.payments.posting import lock_payment, post_success

NUMBER = "6222000000000042"


def feed(as_of: date, principal: int, **fields):
    """Import one feed row (amounts in fen; `feed_values`)."""
    return import_rows([RawRow(1, feed_values(as_of, principal, **fields))])


def feed_values(as_of: date, principal: int, *, minimum_due: int = 50_000, applied=None,
                due: str = "2026-10-19", number: str = NUMBER, interest: int = 0,
                fees: int = 0) -> dict:
    """One feed row's fields. `applied`: None leaves the applied_portal_ids field out (an old
    feed); a list of ledger entry ids fills it (empty: none applied)."""
    values = {
        "account_number": number, "card_last4": "0042", "cardholder_id": f"C{number[-6:]}",
        "full_name": "Li Wei", "date_of_birth": "1985-03-14", "phone": "+8613800000042",
        "email": "li.wei@example.com", "locale": "zh_Hans", "timezone": "Asia/Shanghai",
        "policy_profile": "cn", "currency": "CNY", "credit_limit": "50000",
        "principal": str(to_major(principal, "CNY")), "interest": str(to_major(interest, "CNY")),
        "fees": str(to_major(fees, "CNY")), "minimum_due": str(to_major(minimum_due, "CNY")),
        "oldest_unpaid_due_date": due, "as_of": as_of.isoformat(),
    }
    if applied is not None:
        values["applied_portal_ids"] = " ".join(movement_id(i) for i in applied)
    return values


def account(number: str = NUMBER) -> Account:
    return _db.session.scalar(select(Account).where(Account.account_number == number))


def pay(acct: Account, amount: int, key: str, succeeded_at: datetime) -> Payment:
    """A payment the provider reported as succeeded at `succeeded_at`, posted now."""
    payment = Payment(account_id=acct.id, account=acct, choice=PaymentChoice.OTHER,
                      amount=amount, currency=acct.currency, provider="sandbox",
                      idempotency_key=key, provider_ref=f"pi_{key}")
    _db.session.add(payment)
    _db.session.flush()
    post_success(lock_payment(payment.id), succeeded_at=succeeded_at)
    _db.session.commit()
    return payment


def movement_ids(acct: Account, prefix: str) -> list[int]:
    return list(_db.session.scalars(select(LedgerEntry.id).where(
        LedgerEntry.account_id == acct.id, LedgerEntry.source_ref.startswith(prefix))
        .order_by(LedgerEntry.id)))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class Clock:
    """'Now' as these tests set it (`clock.now = ...`): moves the tests' one clock."""

    def __init__(self, clock, now: datetime):
        self._clock = clock
        self.now = now

    @property
    def now(self) -> datetime:
        return self._clock.now()

    @now.setter
    def now(self, moment: datetime) -> None:
        self._clock.move_to(moment)
