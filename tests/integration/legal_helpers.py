"""Builders for the legal tests: an account referred to legal, a step recorded through the page."""
from __future__ import annotations

from datetime import date, datetime, timezone

from portal.consequences.models import ConsequenceEvent
from portal.extensions import db as _db
from tests.helpers import csrf_token
from tests.clock import TODAY  # noqa: F401  (28 November 2026; legal tests import it from here)

# 28 November 2026, 04:00 UTC: noon in Shanghai, the same day in UTC.
NOW = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)
DUE = date(2026, 7, 1)

# The Chinese the lead merges from /work/notes/zh-legal.json, for the sentences tests read.
ZH = {
    "On %(date)s we filed a claim for %(amount)s with the court.":
        "%(date)s，我们向法院提起诉讼，请求金额为%(amount)s。",
    "On %(date)s the court entered a judgment for %(amount)s.":
        "%(date)s，法院作出判决，判决金额为%(amount)s。",
    "Court and case reference: %(ref)s": "法院及案号：%(ref)s",
    "What you can do now": "您现在可以做什么",
}


def freeze(clock, now: datetime = NOW) -> None:
    """Stop the test's clock at `now` (default: noon in Shanghai on TODAY)."""
    clock.move_to(now)


def refer(account, on: date = date(2026, 10, 29), days_late: int = 120) -> ConsequenceEvent:
    """What the nightly run records when the account reaches the legal-referral day."""
    event = ConsequenceEvent(account_id=account.id, kind="legal_referral", cycle=DUE,
                             occurred_on=on, days_late=days_late, currency=account.currency,
                             policy_profile=account.policy_profile, policy_version=1)
    _db.session.add(event)
    _db.session.commit()
    return event


def late_account(make_account, holder=None, **kw):
    values = dict(principal=1_200_000, interest=30_000, fees=5_000, minimum_due=300_000,
                  oldest_unpaid_due_date=DUE, effective=date(2026, 7, 1))
    values.update(kw)
    return make_account(holder, **values)


def post_step(client, account_id: int, **fields):
    """Post the record form as a legal user would (with a CSRF token from the page)."""
    path = f"/staff/legal/accounts/{account_id}"
    data = {"csrf_token": csrf_token(client, path), "kind": "claim_filed",
            "occurred_on": "2026-11-20", "hearing_on": "", "court_reference": "",
            "amount": "", "note": ""}
    data.update(fields)
    return client.post(f"{path}/actions", data=data)
