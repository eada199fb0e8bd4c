"""The nightly run posts interest and fees, moves stages, records consequences and notices."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account, AccountStatus, EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.balances.services import balance_of
from portal.consequences import pauses
from portal.consequences.models import ConsequenceEvent, Notice, StageChange
from portal.extensions import db as _db
from portal.jobs.nightly import posting_digest, run_nightly
from portal.outbox.models import OutboxMessage
from portal.outbox.services import deliver_due
from portal.timeutil import as_aware

DUE = date(2026, 11, 1)


def _entries(account, kind=None):
    query = select(LedgerEntry.effective_date, LedgerEntry.kind, LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.source_ref.like("nightly:%"))
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    return [(d, k.value, a) for d, k, a in _db.session.execute(query.order_by(
        LedgerEntry.effective_date, LedgerEntry.kind))]


def _counts():
    return tuple(_db.session.scalar(select(func.count()).select_from(m))
                 for m in (LedgerEntry, ConsequenceEvent, Notice, StageChange, AuditEvent))


@pytest.fixture()
def cn_account(make_account):
    # CNY 5,000.00 principal, minimum due 500.00 unpaid since 1 Nov; statement of 1 Nov.
    return make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                        effective=DUE)


def test_first_late_day_posts_the_late_fee_and_daily_interest_per_hand_computed_table(
        cn_account):
    summary = run_nightly(date(2026, 11, 3))
    # 5% of the 500.00 minimum due = 25.00; 5,000.00 x 18.25% / 365 = 2.50 a day.
    assert _entries(cn_account) == [
        (date(2026, 11, 2), "fee", 2_500),
        (date(2026, 11, 2), "interest", 250),
        (date(2026, 11, 3), "interest", 250),
    ]
    kinds = _db.session.scalars(select(ConsequenceEvent.kind).order_by(ConsequenceEvent.id)).all()
    assert kinds == ["late_fee", "penalty_interest"]
    balance = balance_of(cn_account, date(2026, 11, 3))
    assert (balance.fees, balance.interest, balance.overdue) == (2_500, 500, 52_500)
    assert summary.entries_posted == 3 and summary.consequences == 2 and summary.stage_moves == 1


def test_us_default_interest_starts_at_sixty_days_and_carries_the_fraction(make_account):
    account = make_account(currency="USD", profile="us", principal=123_457, minimum_due=5_000,
                           oldest_unpaid_due_date=date(2026, 9, 1), effective=date(2026, 10, 29))
    run_nightly(date(2026, 11, 1))
    # 59 days late on 30 Oct: nothing; 60 on 31 Oct: 1,234.57 x 29.99% / 365 = 1.0144 a day,
    # 1.01 posted and 0.0044 carried to the next day.
    assert _entries(account, EntryKind.INTEREST) == [
        (date(2026, 10, 31), "interest", 101), (date(2026, 11, 1), "interest", 101)]
    # the late fee's day passed before the statement was fed in: the issuer charged it already
    assert _entries(account, EntryKind.FEE) == []


def test_stage_moves_consequences_block_and_formal_notice_with_messages(cn_account, outbox, app,
                                                                       clock):
    # The run happens at 02:30 in Shanghai: its messages wait for 08:00 there (contact rules).
    clock.move_to("2026-12-30T18:30:00+00:00")
    summary = run_nightly(date(2026, 12, 31))  # 60 days late on 31 Dec
    moves = _db.session.execute(select(StageChange.changed_on, StageChange.to_stage)
                                .order_by(StageChange.changed_on)).all()
    assert moves == [(date(2026, 11, 2), "early"), (date(2026, 12, 1), "m1"),
                     (date(2026, 12, 31), "m2")]
    events = dict(_db.session.execute(
        select(ConsequenceEvent.kind, ConsequenceEvent.occurred_on)).all())
    assert events == {"late_fee": date(2026, 11, 2), "penalty_interest": date(2026, 11, 2),
                      "credit_report": date(2026, 12, 1), "card_block": date(2026, 12, 31),
                      "formal_notice": date(2026, 12, 31)}
    assert _db.session.get(Account, cn_account.id).status == AccountStatus.BLOCKED
    notice = _db.session.scalar(select(Notice))
    assert (notice.amount, notice.issued_on, notice.pay_by) == (52_500, date(2026, 12, 31),
                                                              date(2027, 1, 14))
    assert notice.reference == f"CN-{cn_account.id:08d}-20261231" and notice.days_late == 60
    assert outbox() == []
    eight_local = datetime(2026, 12, 31, 0, 0, tzinfo=timezone.utc)
    assert [as_aware(m.not_before) for m in _db.session.scalars(select(OutboxMessage))] == [
        eight_local, eight_local]
    deliver_due(eight_local)
    sent = outbox()
    assert {m["channel"] for m in sent} == {"email", "sms"}
    assert all("4242" in m["body"] for m in sent)
    audit = _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "account.status_by_policy"))
    assert audit.after == {"status": "blocked"} and audit.subject_id == str(cn_account.id)
    assert summary.notices == 1 and summary.days == 60


def test_running_twice_posts_nothing_new(cn_account):
    run_nightly(date(2026, 12, 31))
    before = _counts()
    second = run_nightly(date(2026, 12, 31))
    assert _counts() == before
    assert second.entries_posted == 0 and second.accounts_seen == 0


def test_missed_days_are_caught_up_day_by_day_as_if_run_every_night(make_account):
    nightly_account = make_account(principal=500_000, minimum_due=50_000,
                                   oldest_unpaid_due_date=DUE, effective=DUE)
    for day in range(2, 21):
        run_nightly(date(2026, 11, day))
    caught_up = make_account(principal=500_000, minimum_due=50_000,
                             oldest_unpaid_due_date=DUE, effective=DUE)
    run_nightly(date(2026, 11, 20))
    assert _entries(caught_up) == _entries(nightly_account)
    assert len(_entries(caught_up, EntryKind.INTEREST)) == 19


def test_payment_clearing_the_overdue_amount_stops_interest_and_escalation(cn_account):
    run_nightly(date(2026, 11, 5))
    _db.session.add(LedgerEntry(account_id=cn_account.id, kind=EntryKind.PAYMENT,
                                component="principal", amount=-60_000, currency="CNY",
                                effective_date=date(2026, 11, 6), source_ref="pay:1"))
    _db.session.commit()
    run_nightly(date(2026, 12, 31))
    interest_days = [d for d, _, _ in _entries(cn_account, EntryKind.INTEREST)]
    assert interest_days[-1] == date(2026, 11, 5)
    kinds = set(_db.session.scalars(select(ConsequenceEvent.kind)))
    assert kinds == {"late_fee", "penalty_interest"}
    last = _db.session.scalar(select(StageChange).order_by(StageChange.changed_on.desc()))
    assert (last.changed_on, last.to_stage) == (date(2026, 11, 6), "current")


def test_a_pause_stops_fees_consequences_and_notices_then_escalation_resumes(
        cn_account, monkeypatch):
    def plan_kept(account, day):
        return pauses.Pause("plan") if day <= date(2026, 12, 31) else None

    monkeypatch.setattr(pauses, "_providers", [plan_kept])
    run_nightly(date(2026, 12, 31))
    assert _entries(cn_account) == []  # cn freezes penalty interest while a plan is kept
    assert _db.session.scalar(select(func.count()).select_from(ConsequenceEvent)) == 0
    assert _db.session.scalar(select(Notice)) is None
    assert _db.session.get(Account, cn_account.id).status == AccountStatus.OPEN
    run_nightly(date(2027, 1, 1))  # the plan is broken: what was due happens now
    events = set(_db.session.scalars(select(ConsequenceEvent.occurred_on)))
    assert events == {date(2027, 1, 1)}
    assert _db.session.scalar(select(func.count()).select_from(ConsequenceEvent)) == 5
    assert _entries(cn_account, EntryKind.FEE) == [(date(2027, 1, 1), "fee", 2_500)]


def test_unknown_profile_is_skipped_not_fatal(make_account, cn_account):
    make_account(profile="zz")
    summary = run_nightly(date(2026, 11, 2))
    assert summary.skipped == 1 and summary.accounts_processed == 1


def test_cli_prints_summary_and_refuses_a_bad_as_of(runner, cn_account):
    result = runner.invoke(args=["jobs", "nightly", "--as-of", "2026-11-03"])
    assert result.exit_code == 0, result.output
    assert "entries posted: 3" in result.output and "stage moves: 1" in result.output
    bad = runner.invoke(args=["jobs", "nightly", "--as-of", "03/11/2026"])
    assert bad.exit_code == 2
    assert "Invalid value for '--as-of'" in bad.output


def test_default_as_of_is_the_last_day_ended_in_the_cardholders_time_zone(cn_account, clock):
    clock.move_to("2026-11-02T17:00:00+00:00")  # 3 Nov 01:00 in Shanghai: 2 Nov has ended
    run_nightly()
    assert [d for d, _, _ in _entries(cn_account, EntryKind.INTEREST)][-1] == date(2026, 11, 2)


def test_each_account_is_processed_only_once_its_own_local_day_has_ended(
        make_cardholder, make_account, clock):
    shanghai = make_account(make_cardholder(timezone="Asia/Shanghai"), principal=500_000,
                            minimum_due=50_000, oldest_unpaid_due_date=DUE, effective=DUE)
    new_york = make_account(make_cardholder(timezone="America/New_York"), principal=500_000,
                            minimum_due=50_000, oldest_unpaid_due_date=DUE, effective=DUE)

    def last_day(account):
        days = [d for d, _, _ in _entries(account, EntryKind.INTEREST)]
        return days[-1] if days else None

    # 23:59 on 5 Nov in Shanghai (10:59 in New York): 4 Nov has ended in both.
    clock.move_to("2026-11-05T15:59:00+00:00")
    run_nightly()
    assert (last_day(shanghai), last_day(new_york)) == (date(2026, 11, 4), date(2026, 11, 4))
    # One minute later 5 Nov has ended in Shanghai, not in New York (11:00 there).
    clock.move_to("2026-11-05T16:00:00+00:00")
    assert run_nightly().accounts_seen == 1
    assert (last_day(shanghai), last_day(new_york)) == (date(2026, 11, 5), date(2026, 11, 4))
    # 23:59 in New York: still 5 Nov there, so nothing to do for either.
    clock.move_to("2026-11-06T04:59:00+00:00")
    assert run_nightly().accounts_seen == 0
    # Midnight in New York: its 5 Nov has ended.
    clock.move_to("2026-11-06T05:00:00+00:00")
    assert run_nightly().accounts_seen == 1
    assert (last_day(shanghai), last_day(new_york)) == (date(2026, 11, 5), date(2026, 11, 5))


def test_providers_with_candidates_are_only_asked_about_candidate_accounts(
        make_account, monkeypatch):
    first = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                         effective=DUE)
    second = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                          effective=DUE)
    asked = []

    def provider(account, day):
        asked.append(account.id)
        return pauses.Pause("plan")

    monkeypatch.setattr(pauses, "_providers", [])
    monkeypatch.setattr(pauses, "_candidates", {})
    pauses.register(provider, candidates=lambda ids: {second.id} & set(ids))
    run_nightly(date(2026, 11, 3))
    assert set(asked) == {second.id}
    assert _entries(second) == [] and len(_entries(first)) == 3


def test_providers_with_a_batch_are_asked_once_per_day_for_all_candidates(
        make_account, monkeypatch):
    accounts = [make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                             effective=DUE) for _ in range(4)]
    kept = {accounts[1].id, accounts[3].id}
    one_by_one, batches = [], []

    def provider(account, day):
        one_by_one.append(account.id)
        return pauses.Pause("plan") if account.id in kept else None

    def batch(found, day):
        batches.append((sorted(a.id for a in found), day))
        return {a.id: pauses.Pause("plan") for a in found if a.id in kept}

    monkeypatch.setattr(pauses, "_providers", [])
    monkeypatch.setattr(pauses, "_candidates", {})
    monkeypatch.setattr(pauses, "_batches", {})
    candidates = {a.id for a in accounts[1:]}
    pauses.register(provider, candidates=lambda ids: candidates & set(ids), batch=batch)
    run_nightly(date(2026, 11, 3))  # two days walked: 2 and 3 November
    assert one_by_one == []
    assert batches == [(sorted(candidates), date(2026, 11, 2)),
                       (sorted(candidates), date(2026, 11, 3))]
    for account in accounts:
        assert (_entries(account) == []) == (account.id in kept)


def test_penalty_interest_on_a_small_principal_carries_its_fraction_from_one_run_to_the_next(
        make_account):
    # CN\u00a510.00 at 18.25% accrues half a fen a day. Rounding each day half-up charged 1 fen a
    # day (36.5% a year); carried over, it is 1 fen every other day, across separate runs too.
    account = make_account(principal=1_000, minimum_due=1_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    for day in range(2, 12):  # one run a night, 2 to 11 November
        run_nightly(date(2026, 11, day))
    interest = _entries(account, EntryKind.INTEREST)
    assert sum(amount for _, _, amount in interest) == 5  # 10 days x 0.5 fen
    assert [d.day for d, _, _ in interest] == [3, 5, 7, 9, 11]


def test_each_nightly_batch_leaves_an_audit_event_with_its_counts_and_a_digest(cn_account):
    run_nightly(date(2026, 11, 3))
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "nightly.batch"))
    assert event.after["entries"] == 3 and event.after["amount"] == 2_500 + 2 * 250
    rows = [dict(account_id=cn_account.id, kind=k.value, amount=a, effective_date=d,
                 source_ref=s) for k, a, d, s in _db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.effective_date,
               LedgerEntry.source_ref).where(LedgerEntry.source_ref.like("nightly:%")))]
    assert event.after["digest"] == posting_digest(rows)
    assert event.stream == "nightly:0"  # a lane of the nightly streams (one on SQLite)
    run_nightly(date(2026, 11, 3))  # nothing new posted: no new event
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "nightly.batch")) == 1
