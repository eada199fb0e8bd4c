"""Every migration can be undone and redone: down to nothing and back up to the models."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db as _db
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


def test_upgrading_an_existing_audit_log_writes_its_head_so_later_deletions_show(scratch_url):

    from portal.audit.models import AuditEvent, AuditHead
    from portal.audit.services import GENESIS, _digest, verify_chain
    from portal.timeutil import utcnow

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_url,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade(revision="0011_refund_seq")  # a database from before the head existed
        prev = GENESIS
        for n in range(3):
            event = AuditEvent(created_at=utcnow().replace(microsecond=0), actor_type="system",
                               action="test.before_upgrade", after={"n": n}, prev_hash=prev)
            event.hash = prev = _digest(event)
            _db.session.add(event)
            _db.session.flush()
        _db.session.commit()
        newest_id = event.id

        upgrade()
        head = _db.session.get(AuditHead, 1)
        assert (head.event_count, head.last_id, head.last_hash) == (3, newest_id, prev)
        assert verify_chain() == (3, None)
        tamper("DELETE FROM audit_event WHERE id = :id", id=newest_id)
        checked, broken = verify_chain()
        assert checked == 2 and "the newest event was deleted" in broken.reason
        _db.session.remove()
        _db.engine.dispose()
