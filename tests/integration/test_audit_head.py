"""`flask audit verify` fails when any audit event was edited or deleted, the newest included:
the chain's head row (length and newest hash), rewritten by every append, is the anchor."""
import os

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent, AuditHead
from portal.audit.services import _digest, record, record_many, verify_chain
from portal.extensions import db as _db
from tests.helpers import run_together
from tests.helpers import append_only_triggers_off, tamper

SYSTEM = ("system", None)


def _append(n, *, batch=1):
    """n events, committed `batch` at a time, as the portal's writers do."""
    for start in range(0, n, batch):
        record_many([dict(action="test.event", subject_type="account", subject_id=i,
                          after={"n": i}, actor=SYSTEM)
                     for i in range(start, min(n, start + batch))])
        _db.session.commit()


def _ids():
    return list(_db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


_tamper = tamper


def _broken(runner) -> str:
    """What `flask audit verify` says, having failed."""
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "chain intact" not in result.output
    return result.output


def _head():
    _db.session.expire_all()
    return _db.session.get(AuditHead, 1)


def test_many_appends_keep_the_chain_and_its_head_intact(runner, db):
    _append(30)
    _append(250, batch=100)
    record("test.single", actor=SYSTEM)
    _db.session.commit()
    newest = _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    head = _head()
    assert (head.event_count, head.last_id, head.last_hash) == (281, newest.id, newest.hash)
    assert verify_chain(batch_size=64) == (281, None)  # several batches of the walk
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK: 281 audit events, chain intact" in result.output


def test_deleting_the_newest_events_is_a_break_naming_what_is_missing(runner, db):
    _append(30)
    ids = _ids()
    _tamper("DELETE FROM audit_event WHERE id >= :first", first=ids[24])
    said = _broken(runner)
    assert f"BROKEN at audit event {ids[-1]}: the newest 6 events were deleted" in said
    assert f"the log ends at audit event {ids[23]}" in said


def test_deleting_only_the_newest_event_is_a_break(db):
    _append(5)
    _tamper("DELETE FROM audit_event WHERE id = :id", id=_ids()[-1])
    checked, broken = verify_chain()
    assert checked == 4 and "the newest event was deleted" in broken.reason


def test_deleting_every_event_is_a_break(runner, db):
    _append(3)
    _tamper("DELETE FROM audit_event")
    assert "the log is empty" in _broken(runner)


def test_deleting_a_middle_event_breaks_the_link_of_the_next(runner, db):
    _append(10)
    ids = _ids()
    _tamper("DELETE FROM audit_event WHERE id = :id", id=ids[4])
    assert f"BROKEN at audit event {ids[5]}: links to a hash" in _broken(runner)


def test_editing_an_event_is_a_break_at_that_event(runner, db):
    _append(10)
    ids = _ids()
    _tamper("UPDATE audit_event SET action = 'test.other' WHERE id = :id", id=ids[7])
    assert f"BROKEN at audit event {ids[7]}: content does not match its hash" in _broken(runner)


def test_events_appended_after_a_deletion_do_not_hide_it(db):
    _append(10)
    ids = _ids()
    _tamper("DELETE FROM audit_event WHERE id >= :first", first=ids[8])
    _append(3)
    checked, broken = verify_chain()
    assert checked == 8
    assert broken.event_id == _ids()[8] and "links to a hash" in broken.reason


def test_a_rewritten_newest_event_with_a_fresh_hash_is_a_break(db):
    _append(4)
    newest = _db.session.get(AuditEvent, _ids()[-1])
    append_only_triggers_off()  # as someone with the database owner's rights would
    newest.actor_id = "999"
    newest.hash = _digest(newest)  # the chain alone would accept it
    _db.session.commit()
    checked, broken = verify_chain()
    assert checked == 4 and broken.event_id == newest.id
    assert "hash is not the head's" in broken.reason


def test_a_missing_head_row_is_a_break(runner, db):
    _append(3)
    _tamper("DELETE FROM audit_head")
    assert "BROKEN: the chain's head row (table audit_head) is missing" in _broken(runner)
    _append(1)  # a new head row starts counting at the new event: still a break
    assert verify_chain()[1] is not None


def test_an_empty_log_without_a_head_is_intact(db):
    assert verify_chain() == (0, None)


def test_a_rolled_back_append_leaves_the_head_as_it_was(db):
    _append(2)
    before = _head()
    before = (before.event_count, before.last_hash)
    record("test.undone", actor=SYSTEM)
    _db.session.rollback()
    after = _head()
    assert (after.event_count, after.last_hash) == before
    assert verify_chain() == (2, None)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_concurrent_appends_keep_the_head_consistent(app, db):
    _append(1)

    def append(i):
        return record_many([dict(action="test.concurrent", subject_id=f"{i}-{k}", actor=SYSTEM)
                            for k in range(3)])

    _, errors = run_together(app, append, 8)
    assert errors == []
    _db.session.expire_all()
    newest = _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    head = _head()
    assert _db.session.scalar(select(func.count(AuditEvent.id))) == 25
    assert (head.event_count, head.last_id, head.last_hash) == (25, newest.id, newest.hash)
    assert verify_chain() == (25, None)
