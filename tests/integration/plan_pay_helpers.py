"""Helpers for paying a plan ahead (issue 16): a signed-in account with a plan whose first
payment was missed a month ago and whose second falls due today, and payments made directly."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.balances.services import today_for
from portal.extensions import db
from portal.payments.models import Payment, PaymentChoice
from portal.payments.posting import lock_payment, post_success
from tests.integration.payment_helpers import make_active_plan

INSTALMENT = 50_000  # CN¥500.00, four of them


@pytest.fixture()
def planned(account):
    """`account` (CN¥4,300.00 owed, signed in) with a plan of 4 x CN¥500.00, monthly: the first
    due 30 days ago (missed), the second today, the third and fourth later."""
    plan = make_active_plan(account, [INSTALMENT] * 4, today_for(account) - timedelta(days=30))
    return account, plan


def posted(account, amount, choice=PaymentChoice.OTHER, key="k1") -> Payment:
    """A payment of `amount` posted as if the provider said it succeeded."""
    payment = Payment(account_id=account.id, account=account, choice=choice, amount=amount,
                      currency=account.currency, provider="sandbox", idempotency_key=key)
    db.session.add(payment)
    db.session.flush()
    post_success(lock_payment(payment.id))
    db.session.commit()
    return payment
