"""A message that cannot be written stays queued with its error until its retry time; the
others still go, once, and are never held up behind it."""
from datetime import timedelta

from sqlalchemy import select

from portal.contact import clock
from portal.extensions import db as _db
from portal.outbox import services
from portal.outbox.models import OutboxMessage


def test_one_failing_message_does_not_undo_the_others(app, db, outbox, monkeypatch):
    with app.test_request_context():
        ids = [services.queue_email(f"h{n}@example.com", "s", "b", purpose="test").id
               for n in range(3)]
        # delivered after commit; make the second one fail while writing
        real = services._send

        def write(message):
            if message.id == ids[1]:
                raise ValueError("template broke")
            return real(message)

        monkeypatch.setattr(services, "_send", write)
        _db.session.commit()
    assert sorted(m["to"] for m in outbox()) == ["h0@example.com", "h2@example.com"]
    _db.session.expire_all()
    failed = _db.session.get(OutboxMessage, ids[1])
    assert failed.delivered_at is None and failed.last_error == "ValueError: template broke"
    monkeypatch.setattr(services, "_send", real)
    assert services.deliver_due() == 0  # it waits for its retry time ...
    assert services.deliver_due(clock.now() + services.retry_delay(1)) == 1  # ... then goes
    assert len(outbox()) == 3
    _db.session.expire_all()
    rows = _db.session.scalars(select(OutboxMessage)).all()
    assert all(m.delivered_at is not None and m.last_error is None for m in rows)


def test_messages_that_keep_failing_do_not_hold_up_the_ones_behind_them(app, db, outbox,
                                                                        monkeypatch):
    with app.test_request_context():
        bad = [services.queue_email(f"bad{n}@example.com", "s", "b", purpose="test").id
               for n in range(3)]
        _db.session.info.pop("outbox_pending", None)  # not sent after this commit
        _db.session.commit()
    real = services._send

    def write(message):
        if message.id in bad:
            raise OSError("disk full for these")
        return real(message)

    monkeypatch.setattr(services, "_send", write)
    with app.test_request_context():
        good = services.queue_email("good@example.com", "s", "b", purpose="test").id
        _db.session.info.pop("outbox_pending", None)
        _db.session.commit()
    assert services.deliver_due(limit=3) == 1  # the three failures go first and step aside
    assert [m["to"] for m in outbox()] == ["good@example.com"]
    _db.session.expire_all()
    assert _db.session.get(OutboxMessage, good).delivered_at is not None


def test_retry_delay_doubles_up_to_six_hours():
    assert [services.retry_delay(n).total_seconds() / 60 for n in (1, 2, 3)] == [5, 10, 20]
    assert services.retry_delay(50) == timedelta(hours=6)
