"""On PostgreSQL an audit append inserts its events and moves their streams' heads in one
statement (`_append_in_one`); the ORM append it replaced (still SQLite's) must write the same:
differential, on generated events over several streams, several events a stream."""
import pytest
from sqlalchemy import inspect, select

from portal.audit import services
from portal.audit.models import AuditEvent, AuditStreamHead
from portal.audit.services import record_many, verify_chain
from portal.extensions import db as _db

SYSTEM = ("system", None)
FIELDS = ("actor_type", "actor_id", "action", "subject_type", "before", "after", "ip", "seq",
          "key_id")


def _specs(base: int) -> list[dict]:
    return [dict(action=f"test.diff{i % 2}", subject_type="account", subject_id=base + i % 3,
                 before=None if i % 2 else {"i": i, "when": "2026-12-06"},
                 after={"n": i, "list": [i, "x", None], "nested": {"b": True}}, actor=SYSTEM)
            for i in range(8)]


def _written(base: int) -> tuple[list[tuple], list[tuple]]:
    _db.session.expire_all()
    streams = [f"account:{base + k}" for k in range(3)]
    events = _db.session.scalars(select(AuditEvent).where(AuditEvent.stream.in_(streams))
                                 .order_by(AuditEvent.id)).all()
    heads = [_db.session.get(AuditStreamHead, s) for s in streams]
    newest = {e.stream: e for e in events}
    assert all((h.last_id, h.last_hash, h.event_count) == (newest[h.stream].id,
               newest[h.stream].hash, newest[h.stream].seq) for h in heads)
    return ([(int(e.stream.split(":")[1]) - base,) + tuple(getattr(e, f) for f in FIELDS)
             for e in events], [h.event_count for h in heads])


def test_one_statement_append_writes_what_the_orm_append_writes(db, monkeypatch):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("the one-statement append is PostgreSQL's; SQLite keeps the ORM append")
    for round_ in range(2):  # the second round appends to streams that exist
        made = record_many(_specs(100))
        assert all(inspect(e).persistent and e.id for e in made)  # as a flush leaves them
        ids = [e.id for e in made]
        _db.session.commit()
        with monkeypatch.context() as m:
            m.setattr(services, "is_postgres", lambda: False)  # the ORM append
            record_many(_specs(200))
            _db.session.commit()
        new, old = _written(100), _written(200)
        assert new == old and len(new[0]) == 8 * (round_ + 1)
        assert ids == [row.id for row in _db.session.scalars(
            select(AuditEvent).where(AuditEvent.stream.like("account:10_"))
            .order_by(AuditEvent.id))][-8:]
    assert verify_chain() == (32, None)
