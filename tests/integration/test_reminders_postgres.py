"""PostgreSQL: reminder workers running at the same instant queue each reminder once."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.collections.models import SentReminder
from portal.collections.reminders import send_reminders
from portal.extensions import db as _db
from portal.outbox.models import OutboxMessage
from tests.helpers import run_together
from tests.integration.plan_helpers import agree

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=timezone.utc)  # noon in Shanghai, 2 days before 5 Dec


def test_workers_sending_reminders_at_once_queue_each_one_once(app, make_account, clock):
    for _ in range(6):
        agree(make_account(principal=500_000))  # each plan's first payment: 5 December
    _db.session.commit()
    clock.move_to(NOW)
    summaries, errors = run_together(app, lambda i: send_reminders(NOW, batch_size=2), 3)
    assert errors == []
    assert sum(s.due_soon for s in summaries) == 6
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count(SentReminder.id))) == 6
    assert _db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.purpose == "instalment_due_soon")) == 6
