"""Every migration can be undone and redone: down to nothing and back up to the models."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, DateTime, String, column, func, insert, select, table
from sqlalchemy.engine import make_url

from portal import create_app
from portal.audit.models import AuditEvent, AuditStreamHead
from portal.audit.services import GENESIS, _legacy_digest, record, verify_chain
from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.helpers import tamper


@pytest.fixture()
def scratch_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    import psycopg

    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"{url.database or 'portal_test'}_migrations_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_downgrade_to_nothing_and_upgrade_again_equals_the_models(scratch_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_url,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with _db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), _db.metadata) == []
        _db.engine.dispose()


def test_an_existing_audit_log_stays_verifiable_as_the_legacy_stream_after_upgrade(scratch_url):
    """Events written before keyed streams keep their unkeyed chain (stream "legacy"), its
    head carried over from audit_head: new keyed events verify beside them, and deleting the
    newest legacy event still shows."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_url,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    old_event = table("audit_event", column("created_at", DateTime(timezone=True)),
                      column("actor_type", String), column("action", String),
                      column("after", JSON), column("prev_hash", String), column("hash", String))
    with app.app_context():
        upgrade(revision="0011_refund_seq")  # a database from before the head existed
        prev = GENESIS
        for n in range(3):
            event = AuditEvent(created_at=utcnow().replace(microsecond=0), actor_type="system",
                               action="test.before_upgrade", after={"n": n}, prev_hash=prev)
            prev = _legacy_digest(event)
            _db.session.execute(insert(old_event).values(
                created_at=event.created_at, actor_type="system", action=event.action,
                after=event.after, prev_hash=event.prev_hash, hash=prev))
        _db.session.commit()
        upgrade(revision="0016_append_only_triggers")  # audit_head written from the old chain
        upgrade()
        newest_id = _db.session.scalar(select(func.max(AuditEvent.id)))
        head = _db.session.get(AuditStreamHead, "legacy")
        assert (head.event_count, head.last_id, head.last_hash) == (3, newest_id, prev)
        assert {e.key_id for e in _db.session.scalars(select(AuditEvent))} == {"legacy-sha256"}
        record("test.after_upgrade", subject_type="account", subject_id=7, actor=("system", None))
        _db.session.commit()
        assert verify_chain() == (4, None)
        tamper("DELETE FROM audit_event WHERE id = :id", id=newest_id)
        checked, broken = verify_chain()
        assert checked == 3 and "the newest event was deleted from stream legacy" in broken.reason
        _db.session.remove()
        _db.engine.dispose()
