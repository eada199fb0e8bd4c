"""PostgreSQL: a plan agreed while a payment of the same account posts. Both judge money from
the account's balance, so both take the account's money lock first (docs/money.md, "Lock
order"): either the payment lands first and the plan is priced on what is left (terms the
cardholder saw no longer match), or the plan lands first and the payment is applied to it.
Before, neither waited for the other: the payment was not applied to the plan and the plan's
instalments added up to the balance before the payment, more than was owed."""
from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.payments import webhooks
from portal.payments.models import Payment, PaymentStatus
from portal.payments.posting import lock_payment, post_success
from portal.plans import decisions, lifecycle
from portal.plans.models import Plan, PlanStatus
from portal.timeutil import utcnow
from tests.integration.payment_helpers import intent_event, processing_payment
from tests.integration.plan_helpers import TODAY, agree, consent_for, spec

pytestmark = pytest.mark.postgres
if not os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)", allow_module_level=True)

_HOLD = "SELECT 1 FROM account WHERE id = :a FOR NO KEY UPDATE"


def _waiting_on_a_lock() -> int:
    with _db.engine.connect() as conn:
        return conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"))


def _start(app, path) -> tuple[threading.Thread, dict]:
    """Run `path()` in a request of its own on another thread, then commit; returns the thread
    (waiting for its first lock, or done) and what it ended with."""
    outcome = {}

    def run():
        with app.test_request_context():
            try:
                outcome["result"] = path()
                _db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the test
                outcome["error"] = exc
                _db.session.rollback()
            finally:
                _db.session.remove()

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 20
    while _waiting_on_a_lock() == 0 and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return worker, outcome


def _while_a_posting_holds_the_account(app, account, path) -> dict:
    """A posting holds the account's row; `path` starts and must wait for it; the posting
    writes its payment's entry (120.00 of principal, today) and commits; returns what `path`
    ended with."""
    with _db.engine.connect() as posting:
        posting.execute(text(_HOLD), {"a": account.id})
        worker, outcome = _start(app, path)
        assert worker.is_alive(), outcome  # it waits for the posting's account lock
        posting.execute(LedgerEntry.__table__.insert().values(
            account_id=account.id, kind=EntryKind.PAYMENT, component=Component.PRINCIPAL,
            amount=-120_000, currency=account.currency, effective_date=TODAY,
            source_ref="payment:race:principal", posted_at=utcnow()))
        posting.commit()
    worker.join(30)
    assert not worker.is_alive()
    return outcome


def test_a_plan_agreed_while_a_payment_posts_is_priced_on_what_is_left(app, make_account):
    account = make_account(principal=600_000)
    account_id = account.id
    plan_spec = spec(count=6)
    with app.test_request_context():
        consent = consent_for(account, plan_spec)  # the terms the cardholder saw

    def submit():
        mine = _db.session.get(Account, account_id)
        return lifecycle.submit(mine, plan_spec, consent, source="offer", today=TODAY)

    outcome = _while_a_posting_holds_the_account(app, account, submit)
    error = outcome.get("error")
    assert isinstance(error, lifecycle.PlanError) and error.code == "terms_changed", outcome
    assert _db.session.scalar(select(Plan.id).where(Plan.account_id == account_id)) is None


def test_a_proposal_approved_while_a_payment_posts_is_priced_again(app, make_account,
                                                                  make_staff):
    account = make_account(principal=600_000)
    plan = agree(account, spec(frequency="weekly"))  # outside auto-approval: in review
    assert plan.status == PlanStatus.IN_REVIEW
    _db.session.commit()
    plan_id, collector_id = plan.id, make_staff("collector").id

    def approve():
        from portal.staff.models import StaffUser  # lazy: only the thread needs it

        return decisions.approve(_db.session.get(Plan, plan_id),
                                 _db.session.get(StaffUser, collector_id), TODAY)

    outcome = _while_a_posting_holds_the_account(app, account, approve)
    assert outcome == {"result": False}, outcome  # re-priced: the cardholder must agree again
    _db.session.expire_all()
    assert _db.session.get(Plan, plan_id).status == PlanStatus.COUNTERED


@pytest.mark.parametrize("fast", [True, False])
def test_a_payment_posting_while_a_plan_is_agreed_is_applied_to_it(app, make_account, fast,
                                                                   monkeypatch):
    if not fast:
        from portal.payments import fast_posting  # lazy: only this case switches it off

        monkeypatch.setattr(fast_posting, "usable", lambda: False)
    account = make_account(principal=600_000)
    payment = processing_payment(account, 50_000, "plan_race")
    _db.session.commit()
    event = intent_event(payment, event_id="evt_plan_race")
    payment_id = payment.id
    with app.test_request_context():
        plan = agree(account, spec(count=6, first_date=TODAY + timedelta(days=3)))
        assert plan.status == PlanStatus.ACTIVE  # not committed: this session holds the account
        worker, outcome = _start(app, lambda: webhooks.handle_event(event, provider="sandbox"))
        assert worker.is_alive(), outcome  # the posting waits for the plan's account lock
        _db.session.commit()
    worker.join(30)
    assert not worker.is_alive()
    assert outcome == {"result": "processed"}, outcome
    _db.session.expire_all()
    posted = _db.session.get(Payment, payment_id)
    assert posted.status == PaymentStatus.SUCCEEDED
    assert sum(part for _id, part in posted.plan_application) == 50_000


def test_a_posting_judges_the_minimum_from_the_account_as_it_is_under_the_lock(app,
                                                                              make_account):
    """The payment and its account are read, then the account's lock waits for a feed that
    lowers the minimum due: the payment counts towards the new minimum, not the old one."""
    account = make_account(principal=300_000, minimum_due=100_000)
    payment = processing_payment(account, 60_000, "stale_min")
    _db.session.commit()
    payment_id = payment.id
    with app.test_request_context():
        locked = lock_payment(payment_id)
        assert locked.account.minimum_due == 100_000  # read with the payment
        with _db.engine.connect() as feed:
            feed.execute(text("UPDATE account SET minimum_due = 30000 WHERE id = :a"),
                         {"a": account.id})
            feed.commit()
        assert post_success(locked)
        _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(Payment, payment_id).toward_minimum == 30_000
