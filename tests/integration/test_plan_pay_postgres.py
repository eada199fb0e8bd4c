"""Issue 16: payments posted at once on one plan (an extra payment, autopay, a webhook and
the reconcile job racing) never apply more than each paid nor pay an instalment twice
(needs PostgreSQL: real concurrent sessions)."""
import os
import threading

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.payments.models import Payment, PaymentChoice
from portal.payments.posting import lock_payment, post_success
from portal.plans.models import Plan, PlanStatus
from tests.integration.payment_helpers import make_active_plan
from tests.clock import TODAY

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


@pytest.mark.parametrize("amounts", [(120_000, 90_000, 60_000), (200_000, 200_000, 50_000)])
def test_payments_posted_at_once_never_over_allocate(app, make_account, amounts):
    account = make_account(principal=1_000_000)
    plan = make_active_plan(account, [50_000] * 5, TODAY)
    payments = []
    for n, amount in enumerate(amounts):
        choice = PaymentChoice.OTHER if n % 2 == 0 else PaymentChoice.INSTALMENT
        payment = Payment(account_id=account.id, account=account, choice=choice, amount=amount,
                          currency=account.currency, provider="sandbox", idempotency_key=f"k{n}")
        _db.session.add(payment)
        payments.append(payment)
    _db.session.commit()
    ids = [p.id for p in payments]
    barrier = threading.Barrier(len(ids) * 2)
    errors = []

    def post(payment_id):
        with app.test_request_context():
            try:
                barrier.wait()
                post_success(lock_payment(payment_id))
                _db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                _db.session.rollback()
                errors.append(exc)
            finally:
                _db.session.remove()

    # each payment posted twice at once too (webhook and reconcile): once only
    threads = [threading.Thread(target=post, args=(i,)) for i in ids + ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    _db.session.expire_all()
    plan = _db.session.get(Plan, plan.id)
    posted = _db.session.scalars(select(Payment).where(Payment.id.in_(ids))).all()
    applied = [(int(i), int(a)) for p in posted for i, a in p.plan_application]
    paid = {i.id: i.paid_amount for i in plan.instalments}
    for inst_id in paid:
        assert sum(a for i, a in applied if i == inst_id) == paid[inst_id]
    for p in posted:
        assert sum(int(a) for _i, a in p.plan_application) <= p.amount
    assert all(i.paid_amount <= i.amount for i in plan.instalments)
    left = sum(i.amount - i.paid_amount for i in plan.instalments)
    assert left == max(0, 250_000 - sum(amounts))
    assert (plan.status == PlanStatus.COMPLETED) == (left == 0)
