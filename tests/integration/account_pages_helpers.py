"""Shared builders for the account-page tests: a fixed "today" and a timeline double."""
from __future__ import annotations

from datetime import date, datetime, timezone

from portal.consequences.models import Notice
from portal.consequences.pauses import Pause
from portal.consequences.types import Timeline, TimelineItem
from portal.extensions import db as _db
from tests.clock import TODAY  # 28 November 2026

# 28 November 2026, 04:00 UTC: noon in Shanghai, so the cardholder's day is the 28th.
NOW = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)
STAFF_ROLES = ("customer_service", "collector", "collections_manager", "risk", "legal", "admin")


def freeze_today(clock, now: datetime = NOW) -> None:
    """Stop the test's clock at `now` (default: noon in Shanghai on TODAY)."""
    clock.move_to(now)


def sample_timeline(account, *, pause: Pause | None = None, overdue: int = 50_000) -> Timeline:
    """The kind of timeline the service returns for an account 58 days late."""
    cur = account.currency
    return Timeline(
        account_id=account.id, as_of=TODAY, currency=cur, days_late=58, overdue=overdue,
        pay_by=date(2026, 12, 11),
        past=[
            TimelineItem("late_fee", date(2026, 10, 2), True, 1, amount=5_000, currency=cur),
            TimelineItem("credit_report", date(2026, 10, 31), True, 30,
                         explanation={"en": "Overdue records stay on the credit report for five "
                                            "years after repayment.",
                                      "zh_Hans": "逾期记录在还清后保留五年。"}),
        ],
        upcoming=[
            TimelineItem("credit_report", date(2026, 12, 12), False, 60,
                         explanation={"en": "Overdue records stay on the credit report for five "
                                            "years after repayment."}),
            TimelineItem("card_block", date(2026, 12, 27), False, 75),
        ],
        pause=pause,
        # what the pause freezes, as the service computes it (a full pause under a profile
        # that freezes interest while paused, as both shipped profiles do)
        frozen=frozenset(name for name, on in zip(("escalation", "fees", "interest"),
                                                  pause.frozen(True)) if on)
        if pause else frozenset(),
    )


def use_timeline(monkeypatch, build=sample_timeline, **kwargs) -> None:
    """Make the pages show `build(account)` instead of asking the timeline service."""
    monkeypatch.setattr("portal.account_pages.views.load_timelines",
                        lambda accounts, as_of, balances=None: {a.id: build(a, **kwargs)
                                                                for a in accounts})


def make_notice(account, *, reference="FN-2026-000123", issued_on=date(2026, 11, 27),
                pay_by=date(2026, 12, 11), amount=50_000, kind="formal_notice", days_late=57):
    notice = Notice(account_id=account.id, kind=kind, issued_on=issued_on, amount=amount,
                    currency=account.currency, pay_by=pay_by, locale="en", reference=reference,
                    days_late=days_late, policy_profile=account.policy_profile, policy_version=1)
    _db.session.add(notice)
    _db.session.commit()
    return notice
