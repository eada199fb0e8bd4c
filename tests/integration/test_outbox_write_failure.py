"""A message that cannot be written stays queued with its error; the others still go, once."""
from sqlalchemy import select

from portal.extensions import db as _db
from portal.outbox import services
from portal.outbox.models import OutboxMessage


def test_one_failing_message_does_not_undo_the_others(app, db, outbox, monkeypatch):
    with app.test_request_context():
        ids = [services.queue_email(f"h{n}@example.com", "s", "b", purpose="test").id
               for n in range(3)]
        # delivered after commit; make the second one fail while writing
        real = services._write_file

        def write(message):
            if message.id == ids[1]:
                raise ValueError("template broke")
            return real(message)

        monkeypatch.setattr(services, "_write_file", write)
        _db.session.commit()
    assert sorted(m["to"] for m in outbox()) == ["h0@example.com", "h2@example.com"]
    _db.session.expire_all()
    failed = _db.session.get(OutboxMessage, ids[1])
    assert failed.delivered_at is None and failed.last_error == "ValueError: template broke"
    monkeypatch.setattr(services, "_write_file", real)
    assert services.deliver_due() == 1
    assert len(outbox()) == 3
    rows = _db.session.scalars(select(OutboxMessage)).all()
    assert all(m.delivered_at is not None for m in rows)
