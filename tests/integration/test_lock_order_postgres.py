"""PostgreSQL: the money paths of one account take their locks in one order (docs/money.md,
"Lock order"). Each test holds, on its own connection, what one path holds at some point,
lets the path under test run until it waits, then asks for a lock that path would take next
in the documented order: it must get it. DeadlockDetected (the path under test failing) means
the order is broken."""
from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import today_for
from portal.disputes import workflow
from portal.disputes.models import Dispute
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.plans.jobs import run_plan_monitoring
from portal.plans.models import InstalmentStatus, Plan, PlanStatus
from tests.clock import TODAY
from tests.dispute_helpers import join, raise_dispute
from tests.integration.payment_helpers import make_active_plan

pytestmark = pytest.mark.postgres
if not os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)", allow_module_level=True)

DUE = TODAY - timedelta(days=10)
BEFORE = date(2026, 11, 27)


def _waiting_on_a_lock() -> int:
    with _db.engine.connect() as conn:
        return conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"))


def _hold_then_ask(app, hold: list[str], ask: str, params: dict, path) -> dict:
    """Hold `hold` (statements) on a connection, run `path()` in a thread until it waits on a
    lock, then ask for `ask` (which must find one row: a lock taken), commit, and return what
    the thread ended with ({"error": ...} when it failed)."""
    outcome = {}

    def run():
        with app.app_context():
            try:
                path()
                _db.session.commit()
                outcome["done"] = True
            except Exception as exc:  # noqa: BLE001 - reported by the test
                outcome["error"] = exc
                _db.session.rollback()
            finally:
                _db.session.remove()

    with _db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '20s'"))
        for statement in hold:
            assert other.execute(text(statement), params).first() is not None, statement
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 20
        while _waiting_on_a_lock() == 0 and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.is_alive(), outcome  # it waits for what the connection holds
        assert other.execute(text(ask), params).first() is not None
        other.commit()
    worker.join(30)
    assert not worker.is_alive()
    return outcome


_HEAD = "SELECT 1 FROM audit_stream_head WHERE stream = 'account:' || :a FOR UPDATE"


@pytest.fixture()
def agent(make_staff):
    staff = make_staff("customer_service")
    join("billing", staff, "en")
    return staff


def _resolve(dispute_id: int, agent_id: int, amount: int):
    from portal.staff.models import StaffUser  # lazy: only the thread needs it

    def path():
        workflow.resolve(_db.session.get(Dispute, dispute_id),
                         _db.session.get(StaffUser, agent_id), "upheld", amount,
                         "The charge was wrong.")
    return path


def test_a_dispute_credit_waits_for_a_posting_before_its_audit_head(app, make_account, agent):
    """A posting holds the account's row and, in its corrections, the nightly state, then
    appends its audit events. An upheld dispute's credit on the same account corrects the
    nightly charges too: it must not hold the account's audit head while it waits (before:
    it recorded its ledger credit first, then waited for the state, and the two deadlocked)."""
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    run_nightly(TODAY)
    dispute = raise_dispute(account, amount=100_000)
    ids = dict(a=account.id)
    path = _resolve(dispute.id, agent.id, 100_000)
    _db.session.commit()
    outcome = _hold_then_ask(app, [
        "SELECT 1 FROM account WHERE id = :a FOR NO KEY UPDATE",
        "SELECT 1 FROM account_nightly_state WHERE account_id = :a FOR UPDATE"], _HEAD, ids, path)
    assert "error" not in outcome, outcome
    _db.session.expire_all()
    assert _db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.INTEREST,
        LedgerEntry.source_ref.startswith("correction:"))) is not None


def test_a_dispute_credit_takes_the_plan_before_the_audit_head(app, make_account, agent):
    """A staff decision on a plan (`lock_plan`) holds the plan's row, then records its audit
    event in the account's stream. An upheld dispute's credit lowers the active plan: it must
    take the plan before the account's audit head, as the plan's own paths and a posting's
    listeners do (before: head first, then the plan: deadlock)."""
    account = make_account(principal=90_000, interest=0, fees=0)
    plan = make_active_plan(account, [30_000, 30_000, 30_000],
                            today_for(account) + timedelta(days=7))
    dispute = raise_dispute(account, amount=30_000)
    ids = dict(a=account.id, p=plan.id)
    path = _resolve(dispute.id, agent.id, 30_000)
    _db.session.commit()
    outcome = _hold_then_ask(app, ["SELECT 1 FROM plan WHERE id = :p FOR UPDATE"], _HEAD, ids,
                             path)
    assert "error" not in outcome, outcome


def test_a_plan_completing_waits_for_the_nightly_claim_before_the_audit_head(app, make_account):
    """The nightly run claims the account's row (FOR UPDATE), then appends its events to the
    account's stream. The plan checks complete a paid plan and post its waivers: the waivers'
    foreign-key check waits for the claim, so the completion must not hold the account's audit
    head by then (before: `plan.completed` was recorded first, and the two deadlocked)."""
    account = make_account(principal=20_000, interest=0, fees=4_000)
    plan = make_active_plan(account, [10_000, 10_000], today_for(account))
    plan.fees_waived = 4_000
    for instalment in plan.instalments:
        instalment.status, instalment.paid_amount = InstalmentStatus.PAID, instalment.amount
    record("test.setup", subject_type="account", subject_id=account.id)  # the stream's head
    ids = dict(a=account.id)
    _db.session.commit()
    outcome = _hold_then_ask(app, ["SELECT 1 FROM account WHERE id = :a FOR UPDATE"], _HEAD,
                             ids, run_plan_monitoring)
    assert "error" not in outcome, outcome
    _db.session.expire_all()
    assert _db.session.get(Plan, plan.id).status == PlanStatus.COMPLETED
    assert _db.session.scalar(select(LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.WAIVER)) == -4_000


@pytest.mark.parametrize("named", [("43", "42"), ("43", "42", "42")],
                         ids=["set-based", "row by row"])
def test_a_feed_chunk_takes_its_accounts_in_id_order(app, db, named):
    """A nightly chunk of the job engine (`skip_locked=False`) claims its accounts in id order
    and waits for one another transaction holds. A feed chunk naming several accounts must
    take their rows in the same order, whatever the file's order or where the rows lie on
    disk: holding a later account while it waits for an earlier one deadlocks with the chunk.
    Here the chunk holds the earlier account, the feed (later account first in the file)
    waits, then the chunk claims the later one: it must get it."""
    from portal.journal.feed_io import RawRow  # lazy: the feed's reader, this test only
    from portal.journal.importer import import_rows
    from tests.integration.journal_helpers import feed_values

    first, second = "6222000000000042", "6222000000000043"
    rows = [feed_values(BEFORE, 430_000, number=n, applied=[]) for n in (first, second)]
    assert import_rows([RawRow(i + 1, dict(v)) for i, v in enumerate(rows)]).rejected == 0
    _db.session.commit()
    ids = dict(zip("ab", _db.session.scalars(
        select(Account.id).where(Account.account_number.in_([first, second]))
        .order_by(Account.id))))
    # The earlier account's row moves after the later one's on disk (a new row version).
    _db.session.execute(text("UPDATE account SET card_last4 = card_last4 WHERE id = :a"), ids)
    _db.session.commit()
    # The later account first in the file; an account named twice takes the row-by-row path.
    later = [feed_values(BEFORE + timedelta(days=1), 420_000 - i, number=f"62220000000000{n}",
                         applied=[]) for i, n in enumerate(named)]
    outcome = {}

    def path():
        outcome["result"] = import_rows([RawRow(i + 1, dict(v)) for i, v in enumerate(later)])

    ended = _hold_then_ask(app, ["SELECT 1 FROM account WHERE id = :a FOR UPDATE"],
                           "SELECT 1 FROM account WHERE id = :b FOR UPDATE", ids, path)
    assert "error" not in ended, ended
    assert outcome["result"].rejected == 0, outcome["result"]


def _plan_with_interest(make_account, *, first_due: int, started: int):
    """An active plan of three instalments, the first `first_due` days from today, started
    `started` days from today with CN¥30.00 of up-front interest posted; the account's audit
    stream has a head. Committed."""
    account = make_account(principal=90_000, interest=0, fees=0)
    today = today_for(account)
    plan = make_active_plan(account, [30_000, 30_000, 30_000], today + timedelta(days=first_due))
    plan.started_on, plan.interest_added = today + timedelta(days=started), 3_000
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.INTEREST,
                                component="interest", amount=3_000, currency=account.currency,
                                effective_date=plan.started_on,
                                source_ref=f"plan:{plan.id}:interest"))
    record("test.setup", subject_type="account", subject_id=account.id)  # the stream's head
    _db.session.commit()
    return account, plan, today


@pytest.mark.parametrize("ending", ["cancel", "break_plan"])
def test_a_plan_ending_reverses_its_interest_before_its_audit_event(app, make_account, ending):
    """A plan cancelled (by the cardholder or staff) or broken reverses its up-front interest
    not yet earned: that entry's foreign-key check waits for a nightly claim of the account,
    so the plan must not hold the account's audit head by then (before: `plan.cancelled` or
    `plan.broken` was recorded first, and the nightly run's append deadlocked with it)."""
    from portal.plans import endings  # lazy: this test only

    account, plan, today = _plan_with_interest(make_account, first_due=7, started=-3)
    ids, plan_id = dict(a=account.id), plan.id

    def path():
        getattr(endings, ending)(_db.session.get(Plan, plan_id), today)

    outcome = _hold_then_ask(app, ["SELECT 1 FROM account WHERE id = :a FOR UPDATE"], _HEAD,
                             ids, path)
    assert "error" not in outcome, outcome
    _db.session.expire_all()
    assert _db.session.scalar(select(LedgerEntry.amount).where(
        LedgerEntry.source_ref == f"plan:{plan_id}:interest-unearned")) < 0


def test_a_plan_starting_posts_its_interest_before_its_audit_event(app, make_account):
    """A plan agreed with up-front interest posts it as it starts: the same wait for a nightly
    claim as a plan's ending, so the interest's entry comes before `plan.approved`."""
    from portal.plans.lifecycle import activate  # lazy: this test only

    account = make_account(principal=90_000, interest=0, fees=0)
    today = today_for(account)
    plan = make_active_plan(account, [30_000, 30_000, 30_000], today + timedelta(days=7))
    plan.status, plan.started_on, plan.interest_added = PlanStatus.PROPOSED, None, 3_000
    record("test.setup", subject_type="account", subject_id=account.id)  # the stream's head
    ids, plan_id = dict(a=account.id), plan.id
    _db.session.commit()

    def path():
        activate(_db.session.get(Plan, plan_id), today, "plan.approved")

    outcome = _hold_then_ask(app, ["SELECT 1 FROM account WHERE id = :a FOR UPDATE"], _HEAD,
                             ids, path)
    assert "error" not in outcome, outcome
    _db.session.expire_all()
    assert _db.session.scalar(select(LedgerEntry.amount).where(
        LedgerEntry.source_ref == f"plan:{plan_id}:interest")) == 3_000


def test_the_plan_checks_break_a_plan_without_holding_the_audit_head(app, make_account):
    """The plan checks mark an instalment missed (an audit event) and, past the grace days,
    break the plan, reversing its unearned up-front interest: that entry waits for a nightly
    claim of the account, so the checks take the account's row (KEY SHARE, as the entry's
    foreign key does) before the first audit event of such a plan."""
    account, plan, _ = _plan_with_interest(make_account, first_due=-20, started=-20)
    ids, plan_id = dict(a=account.id), plan.id
    outcome = _hold_then_ask(app, ["SELECT 1 FROM account WHERE id = :a FOR UPDATE"], _HEAD,
                             ids, run_plan_monitoring)
    assert "error" not in outcome, outcome
    _db.session.expire_all()
    assert _db.session.get(Plan, plan_id).status == PlanStatus.BROKEN
    assert _db.session.scalar(select(LedgerEntry.amount).where(
        LedgerEntry.source_ref == f"plan:{plan_id}:interest-unearned")) < 0


def _processing_payment(account, key: str):
    from portal.payments.models import Payment, PaymentChoice  # lazy: these two tests only
    from portal.payments.states import PaymentStatus

    payment = Payment(account_id=account.id, account=account, amount=20_000,
                      choice=PaymentChoice.OVERDUE, currency=account.currency,
                      provider="sandbox", idempotency_key=key, provider_ref=f"pi_{key}",
                      status=PaymentStatus.PROCESSING)
    _db.session.add(payment)
    record("test.seed", subject_type="account", subject_id=account.id)  # the head exists
    _db.session.commit()
    return payment


def _webhook_success(app, payment, posted: list):
    """The success's delivery as the endpoint handles it; `posted` gets what the fast path
    said (True: it posted; None: it sent the posting to the general path)."""
    from unittest import mock

    from portal.payments import fast_posting, webhooks  # lazy: these two tests only
    from tests.integration.payment_helpers import intent_event

    event = intent_event(payment, event_id=f"evt_{payment.idempotency_key}")
    real = fast_posting.post

    def path():
        with app.test_request_context(), mock.patch.object(
                fast_posting, "post", lambda row, intent: posted.append(real(row, intent))
                or posted[-1]):
            assert webhooks.handle_event(event, provider="sandbox") == "processed"
    return path


def test_a_fast_posting_takes_the_audit_head_after_the_nightly_state(app, make_account):
    """The fast posting reads its guards (the nightly state, locked) and takes the account's
    audit head in one statement: the head after the state, as the order says (a path holding
    the state while it waits for the head must not find the head held)."""
    from portal.consequences.models import AccountNightlyState  # lazy: this test only

    account = make_account(principal=500_000, minimum_due=50_000)
    _db.session.add(AccountNightlyState(account_id=account.id, stage="early",
                                        last_processed_day=TODAY - timedelta(days=3)))
    payment = _processing_payment(account, "order-fast")
    posted: list = []
    outcome = _hold_then_ask(
        app, ["SELECT 1 FROM account_nightly_state WHERE account_id = :a FOR UPDATE"], _HEAD,
        dict(a=account.id), _webhook_success(app, payment, posted))
    assert "error" not in outcome, outcome
    assert posted == [True]  # the fast path posted it


def test_a_fast_posting_sent_to_the_general_path_holds_no_audit_head(app, make_account):
    """A posting with an active plan to apply goes the general way after the fast path's
    read: that read must not have taken the audit head, or the general path would lock the
    plan while holding it (a plan decision holds the plan, then wants the head: deadlock)."""
    account = make_account(principal=90_000, interest=0, fees=0)
    plan = make_active_plan(account, [30_000, 30_000, 30_000],
                            today_for(account) + timedelta(days=7))
    payment = _processing_payment(account, "order-general")
    posted: list = []
    outcome = _hold_then_ask(app, ["SELECT 1 FROM plan WHERE id = :p FOR UPDATE"], _HEAD,
                             dict(a=account.id, p=plan.id), _webhook_success(app, payment, posted))
    assert "error" not in outcome, outcome
    assert posted == [None]  # the general path posted it


def test_a_batch_posting_takes_its_audit_heads_after_every_nightly_state(app, make_account):
    """The inbox's set-based read (portal/payments/batch_posting.py) evaluates the guards of
    its whole round (the nightly states, locked) before it takes any audit head: a path
    holding one account's nightly state while it waits for another account's head must not
    find that head held (the batch's first account's, taken before the second's guard)."""
    from unittest import mock

    from portal.consequences.models import AccountNightlyState  # lazy: this test only
    from portal.payments import batch_posting, inbox, webhooks
    from tests.integration.payment_helpers import intent_event

    first, second = (make_account(principal=500_000, minimum_due=50_000) for _ in range(2))
    _db.session.add(AccountNightlyState(account_id=second.id, stage="early",
                                        last_processed_day=TODAY - timedelta(days=3)))
    payments = [_processing_payment(a, f"order-batch-{n}") for n, a in enumerate((first, second))]
    for p in payments:
        webhooks.record_pending(intent_event(p, event_id=f"evt_{p.idempotency_key}"), "sandbox")
    _db.session.commit()
    rounds: list = []
    real = batch_posting.post_many

    def path():
        with mock.patch.dict(app.config, {"PORTAL_BASE_URL": "http://localhost"}), \
                mock.patch.object(batch_posting, "post_many",
                                  lambda items, now: rounds.append(real(items, now))
                                  or rounds[-1]):
            assert inbox.drain()["done"] == 2

    outcome = _hold_then_ask(
        app, ["SELECT 1 FROM account_nightly_state WHERE account_id = :b FOR UPDATE"],
        "SELECT 1 FROM audit_stream_head WHERE stream = 'account:' || :a FOR UPDATE",
        dict(a=first.id, b=second.id), path)
    assert "error" not in outcome, outcome
    assert rounds == [[True, True]]  # one round posted both, set-based
