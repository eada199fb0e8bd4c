"""What the account pages show, assembled from balances and the consequence timeline.

Plain data for templates; the templates own the sentences (whole, translated, with named
placeholders), so nothing here glues words together.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date, timedelta
from decimal import Decimal

from flask import request
from flask_babel import format_percent, get_locale

from portal.account_pages.figures import figures_for, keep_html, kept_html, keys_for
from portal.accounts.models import Account
from portal.balances.services import Balance
from portal.care.services import CareView, care_for
from portal.consequences.services import timelines_for
from portal.core.reads import shared_reads
from portal.consequences.types import Timeline, TimelineItem
from portal.domain.standing import LEGAL_CLOSED, LEGAL_OPEN, AccountFacts, Standing, standing
from portal.plans.services import plan_facts_for

LEGAL_KINDS = LEGAL_OPEN + LEGAL_CLOSED


def load_timelines(accounts: list[Account], as_of: date,
                   balances: dict | None = None) -> dict[int, Timeline | None]:
    """Each account's consequence timeline by account id (a fixed number of queries)."""
    return timelines_for(accounts, as_of, balances)


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
    latest_plan: object | None = None  # the account's most recent Plan, if any
    care: CareView | None = None  # a breathing space or support in force (portal.care)

    @cached_property
    def upcoming(self) -> list[TimelineItem]:
        return shown_items(self.timeline.upcoming) if self.timeline else []

    @cached_property
    def past(self) -> list[TimelineItem]:
        return shown_items(self.timeline.past) if self.timeline else []

    @cached_property
    def next_item(self) -> TimelineItem | None:
        """The next consequence (what `Timeline.pay_by` prevents), else the next step."""
        upcoming = self.upcoming
        return next((i for i in upcoming if i.kind != "stage"), upcoming[0] if upcoming else None)

    @cached_property
    def keep_plan_by(self) -> date | None:
        """When the active plan's oldest unpaid instalment was missed: the last day on which
        paying it keeps the plan (its due date plus the plan's grace days), else None."""
        inst = self.next_instalment
        if inst is None or str(inst.status) != "missed":
            return None
        plan = self.latest_plan if self.latest_plan is not None and \
            self.latest_plan.id == inst.plan_id else inst.plan  # already loaded, as a rule
        return inst.due_date + timedelta(days=plan.grace_days)

    @cached_property
    def legal_step(self) -> TimelineItem | None:
        """The latest legal step recorded (portal.legal), if any."""
        return next((i for i in reversed(self.past) if i.kind in LEGAL_KINDS), None)

    @cached_property
    def standing(self) -> Standing:
        """What the cardholder is told first, and after (portal.domain.standing)."""
        plan = self.latest_plan
        # Plan statuses by value (portal.plans.models.PlanStatus is a StrEnum): the account
        # pages read plans only through plans.services.
        status = str(plan.status) if plan is not None else None
        pause = self.timeline.pause.reason if self.timeline and self.timeline.pause else None
        return standing(AccountFacts(
            owed=self.balance.total > 0,
            # A plan pause is given only while a plan is active (plans.services.plan_pause).
            plan_active=status == "active" or pause == "plan",
            pause=pause,
            legal_steps=tuple(i.kind for i in self.past if i.kind in LEGAL_KINDS),
            charged_off=any(i.kind == "charge_off" for i in self.past),
            plan_broken_on=plan.broken_on if status == "broken" else None,
            proposal=status if status in ("in_review", "countered") else None,
            has_next_step=self.next_item is not None,
            breathing_space=self.care is not None))


def account_summaries(accounts: list[Account], as_of: date,
                      keys: dict | None = None) -> list[AccountSummary]:
    """Balance, timeline and active plan's next instalment for each of a cardholder's
    accounts; the number of queries does not grow with the number of accounts. The plans and
    the care records are read once for both the pauses and the page (`shared_reads`); the
    balances and timelines are rebuilt only for accounts whose inputs changed
    (`portal.account_pages.figures`)."""
    with shared_reads():
        balances, timelines = figures_for(  # kept while unchanged (figures.py)
            accounts, as_of, keys, lambda *args: load_timelines(*args))
        plans, instalments = plan_facts_for(accounts)
        cares = care_for(accounts, as_of)
    return [AccountSummary(a, balances[a.id], timelines.get(a.id), instalments.get(a.id),
                           plans.get(a.id), cares.get(a.id)) for a in accounts]


def _reader() -> tuple:
    """What a kept page part adds to the account's key: the reader's locale, the script root."""
    return (str(get_locale()), request.script_root)


def summary_sections(accounts: list[Account], as_of: date, render) -> list:
    """Each account's summary section (`render(summary)`), kept per account while its key and
    the reader's locale are unchanged: the plans and care records are read, and the summaries
    assembled, only when one account's section is not kept (`portal.account_pages.figures`)."""
    keys = keys_for(accounts, as_of)
    reader = _reader()
    sections = [kept_html("summary", a.id, keys[a.id] and keys[a.id] + reader) for a in accounts]
    if all(section is not None for section in sections):
        return sections
    sections = [render(summary) for summary in account_summaries(accounts, as_of, keys)]
    for account, section in zip(accounts, sections):
        keep_html("summary", account.id, keys[account.id] and keys[account.id] + reader, section)
    return sections


def timeline_body(account: Account, as_of: date, render):
    """The timeline page's content (`render(summary)`), kept like `summary_sections`."""
    key = keys_for([account], as_of)[account.id]
    key = key and key + _reader()
    body = kept_html("timeline", account.id, key)
    if body is None:
        body = render(account_summaries([account], as_of, {account.id: key and key[:4]})[0])
        keep_html("timeline", account.id, key, body)
    return body
