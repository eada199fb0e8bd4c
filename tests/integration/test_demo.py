"""`flask demo load` / `flask demo logins`: a demo cast in every bucket, loadable again and again."""
from datetime import date

import pyotp
import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from zxcvbn import zxcvbn

from portal.accounts.models import Account, Cardholder, LedgerEntry
from portal.audit.models import AuditEvent
from portal.demo.data import BUCKETS, CARDHOLDER_PASSWORD, STAFF, STAFF_PASSWORD, bucket_for
from portal.domain.dates import days_past_due
from portal.staff.models import Role, StaffUser


@pytest.fixture()
def fast_hashing(monkeypatch):
    """Demo passwords use scrypt; most tests only need them to verify, so hash cheaply."""
    monkeypatch.setattr("portal.demo.services.HASH_METHOD", "pbkdf2:sha256:1000")


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_load_twice_is_idempotent(runner, db):
    # Real (scrypt) hashing here: the second run must recognise the stored passwords.
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = [count(db, m) for m in (Cardholder, Account, LedgerEntry, StaffUser, AuditEvent)]
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert [count(db, m) for m in (Cardholder, Account, LedgerEntry, StaffUser, AuditEvent)] == counts


def test_demo_cardholders_cover_every_bucket_and_both_profiles(runner, db, fast_hashing):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    holders = db.session.scalars(select(Cardholder)).all()
    assert len(holders) >= 6
    today = date.today()
    worst = {h.customer_id: max(days_past_due(a.oldest_unpaid_due_date, today) for a in h.accounts)
             for h in holders}
    buckets = [bucket_for(dpd) for dpd in worst.values()]
    assert sorted(buckets) == sorted(label for _low, label in BUCKETS)  # one each, all distinct
    assert any(len(h.accounts) == 2 for h in holders)
    accounts = db.session.scalars(select(Account)).all()
    assert {(a.policy_profile, a.currency) for a in accounts} == {("cn", "CNY"), ("us", "USD")}
    assert {h.locale for h in holders} == {"en", "zh_Hans"}
    assert {h.timezone for h in holders} == {"Asia/Shanghai", "America/New_York"}


def test_first_load_plays_out_the_last_weeks_so_timelines_have_a_past(app, db, fast_hashing):
    from portal.consequences.services import timeline_for
    from portal.demo.services import load_demo

    load_demo(today=date(2026, 3, 1))
    account = db.session.scalar(select(Account).where(Account.account_number == "4111110000006006"))
    assert days_past_due(account.oldest_unpaid_due_date, date(2026, 3, 1)) == 200
    timeline = timeline_for(account, date(2026, 3, 1))
    assert timeline.days_late == 200
    # 160 days late at the statement, 200 today: charge-off (180 days) happened in between.
    assert "charge_off" in {item.kind for item in timeline.past}
    interest = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.kind == "interest", LedgerEntry.account_id == account.id))
    assert interest > 0


def test_a_later_load_leaves_the_accounts_to_the_nightly_job(app, db, fast_hashing):
    from portal.demo.services import load_demo

    load_demo(today=date(2026, 3, 1))
    entries = count(db, LedgerEntry)
    result = load_demo(today=date(2026, 3, 2))
    assert result.nightly is None and count(db, LedgerEntry) == entries


def test_demo_passwords_work_and_are_strong(runner, db, fast_hashing):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    for password in (CARDHOLDER_PASSWORD, STAFF_PASSWORD):
        assert len(password) >= 10 and zxcvbn(password)["score"] >= 3
    holders = db.session.scalars(select(Cardholder)).all()
    assert all(h.is_enrolled and check_password_hash(h.password_hash, CARDHOLDER_PASSWORD)
               for h in holders)
    assert all(h.phone and h.email.endswith("@example.com") for h in holders)
    staff = db.session.scalars(select(StaffUser)).all()
    assert all(check_password_hash(s.password_hash, STAFF_PASSWORD) for s in staff)


def test_one_demo_staff_user_per_role_with_a_fixed_totp_secret(runner, db, fast_hashing):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    staff = db.session.scalars(select(StaffUser)).all()
    assert sorted(r for s in staff for r in s.roles) == sorted(Role)
    secrets = {m.email: m.totp_secret for m in STAFF}
    assert all(s.totp_secret == secrets[s.email] for s in staff)
    assert "cs@demo.portal" in secrets and "collector@demo.portal" in secrets


def test_demo_logins_prints_passwords_and_current_totp_codes(runner, db):
    result = runner.invoke(args=["demo", "logins"])
    assert result.exit_code == 0
    assert CARDHOLDER_PASSWORD in result.output and STAFF_PASSWORD in result.output
    assert "li.wei@example.com" in result.output and "+12125550101" in result.output
    for member in STAFF:
        assert member.email in result.output and member.totp_secret in result.output
    codes = {pyotp.TOTP(m.totp_secret).now() for m in STAFF}
    assert any(code in result.output for code in codes)


@pytest.mark.parametrize("command", ["load", "logins"])
def test_demo_is_refused_in_production(runner, db, monkeypatch, command):
    monkeypatch.setenv("PORTAL_ENV", "production")
    result = runner.invoke(args=["demo", command])
    assert result.exit_code != 0 and "never loaded in production" in result.output
    assert count(db, Cardholder) == 0


def test_demo_customer_service_agent_works_every_dispute_queue(runner):
    from sqlalchemy import select

    from portal.disputes.models import DisputeQueue
    from portal.staff.models import StaffUser
    from portal.extensions import db as _db

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    queues = _db.session.scalars(select(DisputeQueue)).all()
    staff_ids = {m.staff_id for q in queues for m in q.members}
    cs = _db.session.scalar(select(StaffUser).where(StaffUser.email == "cs@demo.portal"))
    assert queues and cs.id in staff_ids


def test_first_load_leaves_a_letter_to_read(app, db, fast_hashing):
    from portal.consequences.models import Notice
    from portal.demo.services import load_demo

    load_demo(today=date(2026, 3, 1))
    assert count(db, Notice) >= 1
