"""Corrections for the past: a payment dated on a day the nightly run already charged takes
back what would not have been charged (issue 11, item 3)."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.balances.services import balance_of
from portal.consequences.models import AccountNightlyState, ConsequenceEvent, StageChange
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.integration.journal_helpers import pay

DUE = date(2026, 11, 1)
# 22:00 on 1 November in Shanghai: the minimum is paid at the provider on the due date.
ON_THE_DUE_DATE = datetime(2026, 11, 1, 14, 0, tzinfo=timezone.utc)


@pytest.fixture()
def charged_for_days(make_account):
    """5,000.00 owed, 500.00 minimum due on 1 November; the nightly run has walked to 4 Nov:
    a 25.00 late fee and 2.50 a day of penalty interest from 2 November."""
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    run_nightly(date(2026, 11, 4))
    assert _charges(account) == 2_500 + 3 * 250
    return account


def _charges(account) -> int:
    return sum(_db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind.in_([EntryKind.FEE,
                                                                    EntryKind.INTEREST]))))


def test_a_late_webhook_for_a_payment_on_the_due_date_takes_back_the_fee_and_interest(
        charged_for_days):
    # Issue 11, item 3: the webhook came three days later; the late fee and penalty interest
    # the nightly run posted in between stayed, and the account showed overdue.
    account = charged_for_days
    payment = pay(account, 50_000, "late-webhook", ON_THE_DUE_DATE)
    assert payment.paid_on == DUE
    assert _charges(account) == 0
    balance = balance_of(account, date(2026, 11, 4))
    assert (balance.fees, balance.interest, balance.overdue, balance.days_past_due) == (0, 0, 0, 0)
    corrections = _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == account.id, LedgerEntry.source_ref.startswith("correction:"))
        ).all()
    assert sorted((c.effective_date, c.kind.value, c.amount) for c in corrections) == [
        (date(2026, 11, 2), "fee", -2_500), (date(2026, 11, 2), "interest", -250),
        (date(2026, 11, 3), "interest", -250), (date(2026, 11, 4), "interest", -250)]
    assert all(c.reversal_of_id for c in corrections)  # each names the charge it takes back
    audit = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "nightly.corrected"))
    assert audit is not None and audit.after["taken_back"] == 3_250
    # What was acted on stays on record; the stage goes back to what the payment made it.
    assert _db.session.scalar(select(ConsequenceEvent.kind).where(
        ConsequenceEvent.kind == "late_fee")) == "late_fee"
    assert _db.session.get(AccountNightlyState, account.id).stage == "current"


def test_the_next_nightly_run_charges_nothing_more_for_a_paid_account(charged_for_days):
    pay(charged_for_days, 50_000, "late-webhook", ON_THE_DUE_DATE)
    run_nightly(date(2026, 11, 6))
    assert _charges(charged_for_days) == 0


def test_a_partial_payment_dated_back_keeps_what_would_still_have_been_charged(
        charged_for_days):
    # 100.00 of the 500.00 minimum on the due date: still late, so the fee stays. Nothing was
    # owed in fees or interest on 1 November, so the payment reduced the principal, and with it
    # the penalty interest.
    pay(charged_for_days, 10_000, "partial", ON_THE_DUE_DATE)
    # 4,900.00 x 18.25% / 365 = 2.45 a day instead of 2.50: 0.05 a day taken back.
    assert _charges(charged_for_days) == 2_500 + 3 * 245


def test_a_payment_dated_after_the_last_nightly_day_corrects_nothing(charged_for_days):
    before = _charges(charged_for_days)
    pay(charged_for_days, 50_000, "on-time", ON_THE_DUE_DATE + timedelta(days=4))
    assert _charges(charged_for_days) == before
    assert _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "nightly.corrected")) is None


def test_two_late_payments_correct_each_charge_once(charged_for_days):
    pay(charged_for_days, 10_000, "first", ON_THE_DUE_DATE)
    pay(charged_for_days, 40_000, "second", ON_THE_DUE_DATE)
    assert _charges(charged_for_days) == 0


def test_the_history_says_which_charges_were_taken_back(charged_for_days, client, login_as):
    pay(charged_for_days, 50_000, "late-webhook", ON_THE_DUE_DATE)
    login_as(client, charged_for_days.cardholder)
    page = client.get(f"/accounts/{charged_for_days.id}/history").get_data(as_text=True)
    assert "Late fee taken back: your payment had arrived" in page
    assert page.count("Interest taken back: your payment had arrived") == 3


def test_a_payment_on_the_day_the_nightly_run_moved_the_stage_corrects_that_days_move(
        make_account, clock):
    # Found by the money machine: on 1 December (30 days late) the nightly run moved the
    # account from "early" to "m1"; the overdue amount paid later that day (or dated back to it
    # by a late webhook) made the correction record a second move for the same day, which the
    # one-move-a-day constraint refused: the payment could not be posted at all.
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    clock.move_to(datetime(2026, 12, 1, 4, tzinfo=timezone.utc))  # noon in Shanghai
    run_nightly(date(2026, 12, 1))
    assert _moves(account)[-1] == (date(2026, 12, 1), "early", "m1")
    payment = pay(account, 60_000, "same-day", datetime(2026, 12, 1, 4, tzinfo=timezone.utc))
    assert payment.paid_on == date(2026, 12, 1)
    assert _db.session.get(AccountNightlyState, account.id).stage == "current"
    # One move that day, as corrected: it ended where the payment left the account.
    assert _moves(account)[-1] == (date(2026, 12, 1), "early", "current")
    assert len(_moves(account)) == 2


def test_a_correction_that_undoes_the_days_move_leaves_no_move_that_day(make_account):
    # 2 November: the nightly run moved the account to "early"; the minimum paid on the due
    # date (a late webhook) means it never left "current".
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    run_nightly(date(2026, 11, 2))
    assert _moves(account) == [(date(2026, 11, 2), "current", "early")]
    pay(account, 50_000, "late-webhook", ON_THE_DUE_DATE)
    assert _db.session.get(AccountNightlyState, account.id).stage == "current"
    assert _moves(account) == []


def _moves(account) -> list[tuple[date, str, str]]:
    _db.session.expire_all()
    return [(m.changed_on, m.from_stage, m.to_stage) for m in _db.session.scalars(
        select(StageChange).where(StageChange.account_id == account.id)
        .order_by(StageChange.changed_on))]
