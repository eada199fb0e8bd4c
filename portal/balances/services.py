"""Balances, overdue amount and days past due, all derived from the ledger as of a date.

Definitions (documented here because plans, payments and disputes rely on them):
- *components*: the ledger summed per component (principal, interest, fee) for entries whose
  effective date is on or before `as_of`; *total* is their sum. Read from the account's closing
  snapshot plus the entries since (`portal.balances.sums`), equal to the whole history summed.
- *overdue*: 0 until the statement's due date (`Account.oldest_unpaid_due_date`) has passed, or
  when there is none; after it, the statement's minimum due (`Account.minimum_due`, as of
  `Account.feed_as_of`) plus fees posted after that date, less the payments (net of reversals)
  not yet in the issuer's figures, whatever their date: the portal's payments the issuer has not
  applied (docs/money.md); a refund or chargeback of what a payment paid beyond the minimum
  is not among them (it was never due). A payment made on the statement's own date counts, and one
  the issuer has applied (already in its minimum due) does not count twice. Never below zero
  nor above the total (`portal.domain.balance`).
- *next due*: while the due date has not passed, the minimum due less those same payments
  (`next_due_on` is the due date, None when the feed gave none); 0 once it is overdue.
- *days past due*: 0 when nothing is overdue, else days since `Account.oldest_unpaid_due_date`.
- "Today" for an account is the calendar date in the cardholder's time zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from portal.accounts.models import Account
from portal.balances.sums import ZERO, Sums, ledger_sums, page_sums
# The SQL predicates other modules have imported from here; they live with the sums now.
from portal.balances.sums import IS_FEE, IS_PAYMENT, after_feed, unapplied_payment  # noqa: F401
from portal.domain.balance import next_due_amount, overdue_amount
from portal.domain.dates import days_past_due, local_date
from portal.timeutil import utcnow


@dataclass(frozen=True)
class Balance:
    account_id: int
    currency: str
    as_of: date
    principal: int
    interest: int
    fees: int
    overdue: int
    days_past_due: int
    next_due: int = 0  # minimum payment due but not yet past due
    next_due_on: date | None = None  # its due date, when the feed gave one

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees


def today_for(account: Account, now: datetime | None = None) -> date:
    """The cardholder's calendar date now (a payment at 23:30 in Shanghai is that Shanghai day)."""
    return local_date(now or utcnow(), account.cardholder.timezone)


def balances_for(accounts: list[Account], as_of: date, *,
                 snapshots: bool = True) -> dict[int, Balance]:
    """Balances for many accounts in one query, keyed by account id. `snapshots=False` sums
    the whole history instead of reading the closing snapshots (the same figures)."""
    if not accounts:
        return {}
    by_id = {a.id: a for a in accounts}
    sums = ledger_sums(list(by_id), as_of, snapshots=snapshots)
    return {account_id: balance_from(account, as_of, sums.get(account_id, ZERO))
            for account_id, account in by_id.items()}


def page_balances(accounts, as_of: date) -> dict[int, Balance]:
    """`balances_for` a page of a list (the worklist), through `sums.page_sums`: one
    statement compiled once whatever the ids. `accounts`: anything with id, currency,
    minimum_due and oldest_unpaid_due_date (`balance_from`)."""
    if not accounts:
        return {}
    by_id = {a.id: a for a in accounts}
    sums = page_sums(list(by_id), as_of)
    return {account_id: balance_from(account, as_of, sums[account_id])
            for account_id, account in by_id.items()}


def balance_from(account, as_of: date, sums: Sums) -> Balance:
    """The balance as of `as_of` from the account's five sums (`portal.balances.sums`);
    `account` needs id, currency, minimum_due and oldest_unpaid_due_date."""
    principal, interest, fees, new_fees, payments = sums
    total = principal + interest + fees
    due_on = account.oldest_unpaid_due_date
    overdue = overdue_amount(total, account.minimum_due, new_fees, payments,
                             due_date=due_on, as_of=as_of)
    next_due = next_due_amount(total, account.minimum_due, payments,
                               due_date=due_on, as_of=as_of)
    dpd = days_past_due(due_on, as_of) if overdue else 0
    return Balance(account.id, account.currency, as_of, principal, interest, fees, overdue,
                   dpd, next_due, due_on if next_due else None)


def balance_of(account: Account, as_of: date | None = None, *,
               snapshots: bool = True) -> Balance:
    """The account's balance as of `as_of` (default: today in the cardholder's zone)."""
    as_of = as_of or today_for(account)
    if not snapshots:
        return balances_for([account], as_of, snapshots=False)[account.id]
    return balances_for([account], as_of)[account.id]  # the call tests and callers wrap
