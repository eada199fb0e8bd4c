"""PostgreSQL: autopay and a manual payment of the same instalment at the same moment (issue
11, item 6). Autopay takes the account's payment lock before it looks for open payments, so a
manual payment being opened in another transaction is seen, and one waiting for 3-D Secure
makes autopay skip the day: the instalment is never charged twice."""
from __future__ import annotations

import os
import threading
from datetime import datetime, time, timezone

import pytest
from sqlalchemy import select

from portal.accounts.models import Account
from portal.extensions import db
from portal.payments import autopay, services
from portal.payments.models import Payment, PaymentChoice
from portal.payments.sandbox import SandboxGateway
from portal.payments.states import OPEN_STATES
from tests.clock import TODAY
from tests.integration.payment_helpers import make_active_plan
from tests.integration.test_autopay_jobs import autopay_on

pytestmark = pytest.mark.postgres
if not os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)", allow_module_level=True)

AUTHENTICATES = "4000002760003184"


@pytest.fixture()
def instalment_due_today(make_account):
    account = make_account()
    make_active_plan(account, [30_000, 30_000], TODAY)
    autopay_on(account)
    return account.id


def _manual_in_3ds(account_id: int, opened: threading.Event | None = None,
                   hold: threading.Event | None = None) -> str:
    account = db.session.get(Account, account_id)
    try:
        payment = services.open_payment(account, choice="instalment", other_amount=None,
                                        currency=account.currency,
                                        nonce=services.issue_nonce(account))
    except services.PaymentRefused as exc:
        return exc.code
    if opened is not None:  # the payment exists in this transaction, not yet committed
        opened.set()
        hold.wait(1.0)
    db.session.commit()
    services.ensure_intent(payment)
    intent, _ = SandboxGateway().confirm_with_card(payment.provider_ref, AUTHENTICATES)
    services.apply_intent(payment, intent)
    db.session.commit()
    return payment.status.value


def _money_that_may_be_taken(account_id: int) -> int:
    db.session.expire_all()
    return sum(p.amount for p in db.session.scalars(select(Payment).where(
        Payment.account_id == account_id)) if p.status in OPEN_STATES
        or p.status.value == "succeeded")


def test_autopay_skips_an_instalment_a_manual_payment_waiting_for_3ds_covers(
        app, db, instalment_due_today):
    assert _manual_in_3ds(instalment_due_today) == "requires_action"
    now = datetime.combine(TODAY, time(4), tzinfo=timezone.utc)
    assert autopay.run_autopay(now=now) == {"busy": 1}
    assert _money_that_may_be_taken(instalment_due_today) == 30_000


def test_autopay_waits_for_a_manual_payment_being_opened_at_the_same_moment(
        app, db, instalment_due_today):
    # Before: autopay looked for open payments without the account's lock, so a manual payment
    # opened but not yet committed was missed and both went ahead: CN¥600 for a CN¥300 instalment.
    opened, hold = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}
    now = datetime.combine(TODAY, time(4), tzinfo=timezone.utc)

    def manual():
        with app.test_request_context():
            try:
                outcomes["manual"] = _manual_in_3ds(instalment_due_today, opened, hold)
            finally:
                db.session.remove()

    def autopay_run():
        with app.app_context():
            opened.wait(5)
            try:
                outcomes["autopay"] = autopay.run_autopay(now=now)
            finally:
                hold.set()
                db.session.remove()

    threads = [threading.Thread(target=manual), threading.Thread(target=autopay_run)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes["manual"] == "requires_action"
    assert outcomes["autopay"] == {"busy": 1}
    assert _money_that_may_be_taken(instalment_due_today) == 30_000
    assert [p.choice for p in db.session.scalars(select(Payment).where(
        Payment.account_id == instalment_due_today))] == [PaymentChoice.INSTALMENT]
