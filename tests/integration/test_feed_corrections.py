"""The issuer's feed, received after the nightly run walked past its date, takes back what the
nightly run charged on the figures before it: a payment at the bank on day D reported by the
feed dated D leaves no penalty interest or late fee for D+1 onwards. Those corrections are
the issuer's own arithmetic: not exported, and the next feed's figures agree with them."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.balances.services import balance_of
from portal.consequences.models import AccountNightlyState
from portal.exports.journal import journal_rows
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.journal.acks import pending_movements
from portal.journal.feed_io import RawRow
from portal.journal.importer import import_rows
from portal.journal.rules import movement_id
from tests.integration.journal_helpers import NUMBER, account, feed, feed_values, utc

BEFORE, D, WALKED = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _now(clock):
    clock.move_to(utc(2026, 12, 1, 4))  # noon in Shanghai the day after WALKED


@pytest.fixture()
def walked(db, clock):
    """CN¥4,300 owed, CN¥500 overdue since 19 October; the nightly run has walked to WALKED,
    charging interest every day."""
    feed(BEFORE, 430_000, applied=[])
    acct = account()
    run_nightly(WALKED)
    assert _charged(acct, D + timedelta(days=1)) > 0
    return acct


def _charged(acct, first: date, last: date = WALKED) -> int:
    """Nightly charges and their corrections dated first..last."""
    return int(_db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == acct.id, LedgerEntry.kind.in_([EntryKind.INTEREST,
                                                                 EntryKind.FEE]),
        LedgerEntry.effective_date.between(first, last))))


def _paid_at_the_bank_on_d(acct):
    """The feed dated D: CN¥500 paid at the bank that day, nothing overdue; the issuer's
    interest and fees are those charged up to D."""
    balance = balance_of(acct, D)
    return feed(D, 380_000, minimum_due=0, due="", applied=[], interest=balance.interest,
                fees=balance.fees)


def _corrections(acct):
    return _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == acct.id, LedgerEntry.source_ref.startswith("correction:"))
        .order_by(LedgerEntry.id)).all()


def _day_charges(acct, day: date) -> int:
    return _charged(acct, day, day)


def test_a_feed_dated_before_the_nights_already_walked_takes_back_their_charges(walked):
    # Penalty interest while CN¥500.00 is overdue, 18.25% a year on CN¥4,300.00: CN¥2.15 a
    # day, D and the two days after it.
    assert [_day_charges(walked, D + timedelta(days=n)) for n in range(3)] == [215, 215, 215]
    assert _paid_at_the_bank_on_d(walked).rejected == 0
    # Before: the days after D stayed charged as if nothing had been paid at the bank. Now
    # nothing was overdue after D, so no penalty interest; D itself is the feed's own figure.
    assert [_day_charges(walked, D + timedelta(days=n)) for n in range(3)] == [215, 0, 0]
    corrections = _corrections(walked)
    assert [(c.effective_date, c.amount) for c in corrections] == [
        (D + timedelta(days=1), -215), (D + timedelta(days=2), -215)]
    assert all(":feed-" in c.source_ref for c in corrections)
    assert _db.session.get(AccountNightlyState, walked.id).stage == "current"
    audit = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "nightly.corrected"))
    assert audit.after["from"] == (D + timedelta(days=1)).isoformat()
    assert audit.after["taken_back"] == 430
    balance = balance_of(walked, WALKED)
    assert (balance.principal, balance.overdue, balance.days_past_due) == (380_000, 0, 0)


def test_a_file_naming_the_account_twice_corrects_the_same(walked):
    # Two rows for one account: the import applies them row by row (portal/journal/rowwise.py).
    balance = balance_of(walked, D)
    result = import_rows([
        RawRow(1, feed_values(BEFORE, 430_000, applied=[])),
        RawRow(2, feed_values(D, 380_000, minimum_due=0, due="", applied=[],
                              interest=balance.interest, fees=balance.fees))])
    assert result.rejected == 0
    assert [(c.effective_date, c.amount) for c in _corrections(walked)] == [
        (D + timedelta(days=1), -215), (D + timedelta(days=2), -215)]


def test_the_feeds_corrections_are_not_portal_movements(walked):
    _paid_at_the_bank_on_d(walked)
    ids = {c.id for c in _corrections(walked)}
    assert ids
    assert not {movement_id(i) for i in ids} & {row["movement_id"] for row in journal_rows(BEFORE)}
    assert not ids & set(pending_movements({NUMBER}).get(NUMBER, {}))


def test_the_next_feed_agrees_with_the_corrections(walked):
    _paid_at_the_bank_on_d(walked)
    before = _db.session.scalar(select(func.count(LedgerEntry.id)))
    # The issuer's figures on WALKED: no interest after D. Were the corrections portal
    # movements it has not applied, the feed would undo them.
    result = feed(WALKED, 380_000, minimum_due=0, due="", applied=[], interest=215, fees=0)
    assert result.rejected == 0 and result.entries_posted == 0
    assert _db.session.scalar(select(func.count(LedgerEntry.id))) == before


def test_the_same_feed_again_takes_back_nothing_more(walked):
    _paid_at_the_bank_on_d(walked)
    count = len(_corrections(walked))
    _paid_at_the_bank_on_d(walked)
    assert len(_corrections(walked)) == count


def test_a_feed_for_a_day_not_yet_walked_past_corrects_nothing(db, clock):
    feed(BEFORE, 430_000, applied=[])
    acct = account()
    run_nightly(D)
    _paid_at_the_bank_on_d(acct)
    assert _corrections(acct) == []


def test_a_feed_raising_the_balance_charges_nothing_back(walked):
    charged = _charged(walked, D + timedelta(days=1))
    balance = balance_of(walked, D)
    feed(D, 480_000, applied=[], interest=balance.interest, fees=balance.fees)
    assert _corrections(walked) == []
    assert _charged(walked, D + timedelta(days=1)) == charged


def test_history_and_timeline_say_the_issuers_figures_showed_less_owed(walked, client,
                                                                        login_as):
    _paid_at_the_bank_on_d(walked)
    login_as(client, walked.cardholder)
    history = client.get(f"/accounts/{walked.id}/history",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    page = client.get(f"/accounts/{walked.id}/timeline",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    if walked.cardholder.locale == "zh_Hans":
        assert "发卡机构的数据显示您当时欠款更少" in history
        assert "发卡机构较晚送达的数据显示您当时欠款更少" in page
    else:
        assert "your card issuer&#39;s figures showed less owed" in history
        assert "showed you owed less by then" in page
