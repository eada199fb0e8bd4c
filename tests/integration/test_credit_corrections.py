"""Corrections for the past also for credits (issue 11): an upheld dispute credit or a plan's
waiver posted on a day the nightly run already charged takes back what the day's charges
would not have been, says why in history and timeline, in both languages, and goes to the
issuer through the journal export."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.disputes import workflow
from portal.exports.journal import journal_rows
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.journal.rules import movement_id
from tests.clock import TODAY
from tests.dispute_helpers import join, raise_dispute
from tests.integration.journal_helpers import pay

DUE = TODAY - timedelta(days=10)


@pytest.fixture()
def charged_today(make_account):
    """5,000.00 principal, 500.00 overdue since 10 days ago; the nightly run has walked to
    today: a late fee and 2.50 a day of penalty interest, today's included."""
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    run_nightly(TODAY)
    assert _interest_on(account, TODAY) == 250
    return account


@pytest.fixture()
def agent(make_staff):
    staff = make_staff("customer_service")
    join("billing", staff, "en")
    return staff


def _interest_on(account, day) -> int:
    return sum(_db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.INTEREST,
        LedgerEntry.effective_date == day)))


def _uphold(account, agent, amount):
    dispute = raise_dispute(account, amount=amount)
    workflow.resolve(dispute, agent, "upheld", amount, "The charge was wrong.")
    _db.session.commit()
    return dispute


def _corrections(account):
    return _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == account.id,
        LedgerEntry.source_ref.startswith("correction:"))).all()


def test_an_upheld_dispute_credit_on_a_day_already_charged_takes_back_that_days_interest(
        charged_today, agent):
    # Before: today's penalty interest stayed charged on the principal before the credit:
    # 2.50 on 5,000.00 where 4,000.00 was owed (2.00 at 18.25%).
    _uphold(charged_today, agent, 100_000)
    assert _interest_on(charged_today, TODAY) == 200
    (correction,) = _corrections(charged_today)
    assert (correction.kind, correction.amount, correction.effective_date) == (
        EntryKind.INTEREST, -50, TODAY)
    assert correction.source_ref.split(":")[2].startswith("credit-")
    audit = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "nightly.corrected"))
    assert audit.after["reason"] == "dispute credit" and audit.after["taken_back"] == 50


def test_a_credit_after_the_last_nightly_day_corrects_nothing(make_account, agent):
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    run_nightly(TODAY - timedelta(days=1))
    _uphold(account, agent, 100_000)
    assert _corrections(account) == []


def test_the_credits_correction_goes_to_the_issuer_in_the_journal(charged_today, agent):
    _uphold(charged_today, agent, 100_000)
    (correction,) = _corrections(charged_today)
    rows = [r for r in journal_rows(TODAY - timedelta(days=1))
            if r["movement_id"] == movement_id(correction.id)]
    assert len(rows) == 1 and rows[0]["kind"] == "interest" and rows[0]["amount"] == "-0.50"
    assert rows[0]["reverses_movement_id"] == movement_id(correction.reversal_of_id)


def test_history_and_timeline_say_what_a_credit_corrected(charged_today, agent, client,
                                                          login_as):
    _uphold(charged_today, agent, 100_000)
    login_as(client, charged_today.cardholder)
    history = client.get(f"/accounts/{charged_today.id}/history").get_data(as_text=True)
    assert "Interest taken back: a credit to your account had been applied" in history
    page = client.get(f"/accounts/{charged_today.id}/timeline").get_data(as_text=True)
    assert "we took back CN¥0.50 of late fees and interest charged from" in page
    assert "a credit to your account applies from that day or earlier" in page


def test_the_timeline_says_what_a_late_payment_corrected_in_chinese(make_account, client,
                                                                     login_as):
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    run_nightly(TODAY)
    # The minimum paid on the due date at the provider; the webhook comes only today.
    on_due = datetime.combine(DUE, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=4)
    pay(account, 50_000, "late-webhook", on_due)
    account.cardholder.locale = "zh_Hans"
    _db.session.commit()
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/timeline",
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    taken = -sum(c.amount for c in _corrections(account))
    assert taken == 2_500 + 10 * 250
    assert "我们退回了" in page and "款项虽较晚到账" in page


def _component_sums(account) -> dict[str, int]:
    rows = _db.session.execute(select(LedgerEntry.component, func.sum(LedgerEntry.amount)).where(
        LedgerEntry.account_id == account.id).group_by(LedgerEntry.component)).all()
    return {component.value: int(total) for component, total in rows}


def test_interest_a_payment_already_paid_is_taken_back_from_principal_never_below_zero(
        charged_today, agent):
    # Before: the correction went to the interest component that a payment had already paid,
    # which then read -0.50 (the total was right; the figures by component were not).
    charged = _component_sums(charged_today)
    pay(charged_today, charged["fee"] + charged["interest"], "fees-and-interest",
        datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=2))
    assert _component_sums(charged_today)["interest"] == 0
    principal_before = _component_sums(charged_today)["principal"]
    _uphold(charged_today, agent, 100_000)
    after = _component_sums(charged_today)
    assert after["interest"] == 0 and after["fee"] == 0
    assert after["principal"] == principal_before - 100_000 - 50
    (correction,) = _corrections(charged_today)
    assert (correction.kind, correction.component.value, correction.amount) == (
        EntryKind.INTEREST, "principal", -50)
    assert correction.source_ref.startswith(f"correction:{correction.reversal_of_id}.principal:")
