"""What the account pages show, assembled from balances and the consequence timeline.

Plain data for templates; the templates own the sentences (whole, translated, with named
placeholders), so nothing here glues words together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_percent

from portal.accounts.models import Account
from portal.balances.services import Balance, balances_for
from portal.consequences.services import timelines_for
from portal.consequences.types import Timeline, TimelineItem
from portal.plans.services import next_instalments_for

def load_timelines(accounts: list[Account], as_of: date,
                   balances: dict | None = None) -> dict[int, Timeline | None]:
    """Each account's consequence timeline by account id (a fixed number of queries)."""
    return timelines_for(accounts, as_of, balances)


def load_next_instalments(accounts: list[Account]) -> dict:
    """The next unpaid instalment of each account's active plan (one query)."""
    return next_instalments_for(accounts)


def shown_items(items: list[TimelineItem]) -> list[TimelineItem]:
    """Items for the cardholder: a "now N days late" step is left out on a day that already
    has a consequence, which says the same thing with more meaning."""
    busy = {i.on for i in items if i.kind != "stage"}
    return [i for i in items if i.kind != "stage" or i.on not in busy]


def percent(rate: Decimal | None) -> str:
    """An annual rate given in percent (Decimal("18.25")) formatted for the reader."""
    if rate is None:
        return ""
    return format_percent(rate / 100, "#,##0.##%")


def explanation_for(item: TimelineItem, locale: str) -> str | None:
    """The policy's explanation of a consequence in the reader's language, else English."""
    texts = item.explanation or {}
    return texts.get(locale) or texts.get(locale.split("_")[0]) or texts.get("en")


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    balance: Balance
    timeline: Timeline | None
    next_instalment: object | None = None  # PlanInstalment of the active plan, if any

    @property
    def upcoming(self) -> list[TimelineItem]:
        return shown_items(self.timeline.upcoming) if self.timeline else []

    @property
    def past(self) -> list[TimelineItem]:
        return shown_items(self.timeline.past) if self.timeline else []

    @property
    def next_item(self) -> TimelineItem | None:
        """The next consequence (what `Timeline.pay_by` prevents), else the next step."""
        upcoming = self.upcoming
        return next((i for i in upcoming if i.kind != "stage"), upcoming[0] if upcoming else None)


def account_summaries(accounts: list[Account], as_of: date) -> list[AccountSummary]:
    """Balance, timeline and active plan's next instalment for each of a cardholder's
    accounts; the number of queries does not grow with the number of accounts."""
    balances = balances_for(accounts, as_of)
    timelines = load_timelines(accounts, as_of, balances)
    instalments = load_next_instalments(accounts)
    return [AccountSummary(a, balances[a.id], timelines.get(a.id), instalments.get(a.id))
            for a in accounts]
