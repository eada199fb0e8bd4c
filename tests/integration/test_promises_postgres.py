"""PostgreSQL: two online promises submitted at the same instant (two tabs, a double tap) make
one promise; the second is refused because the first is open."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account
from portal.collections import promises
from portal.collections.models import PromiseToPay
from portal.extensions import db as _db
from tests.clock import TODAY
from tests.helpers import run_together

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


def test_two_promises_at_once_make_one(app, make_account):
    account_id = make_account(oldest_unpaid_due_date=TODAY - timedelta(days=20)).id

    def work(i):
        account = _db.session.get(Account, account_id)
        return promises.make_promise(account, account.cardholder, 20_000 + i,
                                     TODAY + timedelta(days=3), TODAY).id

    made, errors = run_together(app, work, 2)
    assert len(made) == 1
    assert [e.codes for e in errors] == [("open_promise",)]
    assert _db.session.scalar(select(func.count(PromiseToPay.id))) == 1
