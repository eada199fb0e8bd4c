"""The daily autopay run finds what is due for all mandates in a fixed number of queries, and
still charges exactly the instalments due today."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import autopay
from portal.payments.models import AutopayMandate, Payment
from tests.integration.payment_helpers import form_tokens, make_active_plan


def _mandate(account):
    mandate = AutopayMandate(account_id=account.id, provider="sandbox", customer_ref="cus_sb_x",
                             payment_method_ref="pm_sb_card_4242", card_last4="4242",
                             consent_text="I allow ...", active=True)
    db.session.add(mandate)
    db.session.commit()
    return mandate


def _not_due_yet(make_account, n):
    """`n` accounts in both profiles with autopay on and an instalment due in ten days."""
    for i in range(n):
        account = make_account(**({"profile": "us", "currency": "USD"} if i % 2 else {}))
        make_active_plan(account, [30_000, 30_000], today_for(account) + timedelta(days=10))
        _mandate(account)


def _queries(fn):
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len(seen)


def test_finding_what_is_due_takes_the_same_queries_for_2_and_10_mandates(make_account):
    _not_due_yet(make_account, 2)
    counts, few = _queries(autopay.run_autopay)
    assert counts == {}
    _not_due_yet(make_account, 8)
    counts, many = _queries(autopay.run_autopay)
    assert counts == {}
    assert many == few


@pytest.fixture()
def due_account(make_account, login_as, client):
    """An account with an instalment due today and a card saved through the autopay page."""
    account = make_account(principal=400_000, interest=20_000, fees=10_000)
    login_as(client, account.cardholder)
    make_active_plan(account, [30_000, 30_000], today_for(account))
    tokens = form_tokens(client.get(f"/accounts/{account.id}/autopay").get_data(as_text=True))
    client.post(f"/accounts/{account.id}/autopay", data={
        "csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
        "card_number": "4242424242424242", "expiry": "12/30", "cvc": "123", "consent": "y"})
    assert db.session.scalar(select(AutopayMandate).where(
        AutopayMandate.account_id == account.id)).active
    return account


def test_among_many_mandates_only_the_instalment_due_today_is_charged(make_account, due_account):
    _not_due_yet(make_account, 4)
    off = make_account()
    make_active_plan(off, [30_000], today_for(off))
    _mandate(off).active = False
    db.session.commit()
    assert autopay.run_autopay() == {"succeeded": 1}
    payments = db.session.scalars(select(Payment)).all()
    assert [(p.account_id, p.amount) for p in payments] == [(due_account.id, 30_000)]
    assert autopay.run_autopay() == {}
