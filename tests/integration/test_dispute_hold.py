"""The collection hold in the nightly run and on the timeline: on while a contesting dispute
is open, off after it is resolved or withdrawn."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.consequences.models import ConsequenceEvent
from portal.consequences.services import timeline_for
from portal.disputes import services, workflow
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly

DUE = date(2026, 11, 1)
RAISED = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 on 1 Nov in Shanghai


@pytest.fixture()
def late_account(make_account):
    return make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                        effective=DUE)


def _raise(account, category="already_paid", amount=50_000):
    dispute = services.raise_dispute(account.cardholder, account, category=category,
                                     amount=amount, entry_ids=[], description="Paid on 30 Oct.",
                                     now=RAISED)
    _db.session.commit()
    return dispute


def _fees(account):
    return _db.session.scalars(select(LedgerEntry.effective_date).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.FEE,
        LedgerEntry.source_ref.like("nightly:%"))).all()


def test_nightly_run_posts_no_escalation_while_the_dispute_is_open(late_account):
    _raise(late_account)
    run_nightly(date(2026, 11, 10))
    assert _fees(late_account) == []
    assert _db.session.scalar(select(func.count()).select_from(ConsequenceEvent)) == 0


def test_complaint_about_conduct_does_not_hold_escalation(late_account):
    _raise(late_account, "conduct_complaint", None)
    run_nightly(date(2026, 11, 3))
    assert _fees(late_account) == [date(2026, 11, 2)]


def test_escalation_resumes_after_the_dispute_is_rejected(late_account, make_staff):
    dispute = _raise(late_account)
    run_nightly(date(2026, 11, 10))
    workflow.resolve(dispute, make_staff("customer_service"), "rejected", None,
                     "No payment found.")
    _db.session.commit()
    run_nightly(date(2026, 12, 5))  # after the day it was closed: what was due happens now
    assert len(_fees(late_account)) == 1


def test_timeline_says_the_account_is_on_hold(late_account):
    dispute = _raise(late_account)
    pause = timeline_for(late_account, date(2026, 11, 5)).pause
    assert (pause.reason, pause.amount, pause.reference) == ("dispute", 50_000, str(dispute.id))
    services.withdraw(dispute, late_account.cardholder)
    _db.session.commit()
    assert timeline_for(late_account, date(2030, 1, 1)).pause is None
