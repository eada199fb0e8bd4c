"""PostgreSQL: delivery workers running at the same instant write each message once and never
send a cardholder more collection messages than the cap allows."""
from __future__ import annotations

import os
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.outbox import services as outbox
from portal.outbox.models import Channel, MessageKind, OutboxMessage
from tests.helpers import run_together

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]

NOW = datetime(2026, 12, 31, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


@pytest.fixture()
def written(monkeypatch):
    """Ids of the messages written to the outbox, in order; each write is slowed down so
    the workers overlap."""
    ids = []
    real = outbox._send

    def slow_write(message):
        time.sleep(0.005)
        ids.append(message.id)
        return real(message)

    monkeypatch.setattr(outbox, "_send", slow_write)
    return ids


def _message(holder, kind, *, channel=Channel.EMAIL, account=None, delivered_at=None):
    message = OutboxMessage(
        channel=channel, recipient=holder.email if channel == Channel.EMAIL else holder.phone,
        subject="A letter about your card account", body="A letter is ready.",
        purpose="notice_available", cardholder_id=holder.id, kind=kind,
        account_id=account.id if account else None, created_at=NOW - timedelta(hours=8),
        not_before=NOW - timedelta(hours=4), delivered_at=delivered_at)
    _db.session.add(message)
    _db.session.flush()
    return message.id


def test_workers_delivering_at_once_write_each_message_once(app, make_account, written):
    ids = []
    for _ in range(8):
        account = make_account()
        holder = account.cardholder
        ids += [_message(holder, MessageKind.TRANSACTIONAL),
                _message(holder, MessageKind.SERVICE, channel=Channel.SMS),
                _message(holder, MessageKind.COLLECTION, account=account),
                _message(holder, MessageKind.COLLECTION, channel=Channel.SMS, account=account)]
    _db.session.commit()

    sent, errors = run_together(app, lambda i: outbox.deliver_due(NOW, limit=5), 3)
    assert errors == []

    assert sorted(written) == sorted(ids)  # every message written, none twice
    assert sum(sent) == len(ids)
    _db.session.expire_all()
    rows = _db.session.scalars(select(OutboxMessage)).all()
    assert all(m.delivered_at is not None and m.attempts == 1 for m in rows)


def test_workers_sending_at_once_never_break_the_cap(app, make_account, written):
    """Four messages each, all queued as allowed (as when two transactions queue at the same
    moment); five already sent this week and the cap is seven: two go, two are suppressed,
    whichever worker gets there first."""
    pending = []
    for _ in range(6):
        account = make_account()
        holder = account.cardholder
        for days in (1, 2, 3, 4, 5):
            _message(holder, MessageKind.COLLECTION, account=account,
                     delivered_at=NOW - timedelta(days=days))
        pending.append([_message(holder, MessageKind.COLLECTION, account=account)
                        for _ in range(4)])
    _db.session.commit()

    _, errors = run_together(
        app, lambda i: outbox.deliver_pending([p[i] for p in pending], now=NOW), 4)
    assert errors == []

    assert len(written) == len(set(written)) == 2 * len(pending)
    _db.session.expire_all()
    for ids in pending:
        rows = _db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
        assert Counter(m.suppressed_reason for m in rows) == {None: 2, "cap": 2}
        holder_id = rows[0].cardholder_id
        week = _db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.cardholder_id == holder_id,
            OutboxMessage.delivered_at >= NOW - timedelta(days=7))).all()
        assert len(week) == 7
