"""The audit log is tamper-evident against someone who holds the database but not the key:
keyed chains per stream (an edit shows, even with every hash recomputed), a head per stream
(deleting the newest events shows), signed anchors written outside the database (rewinding a
stream and its head shows), and no stream ever forks."""
import base64
import json
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditAnchor, AuditEvent, AuditStreamHead
from portal.audit.services import (GENESIS, _legacy_digest, make_anchor, record, record_bulk,
                                   record_many, stream_for, verify_chain)
from portal.extensions import db as _db
from tests.helpers import append_only_triggers_off, run_together, tamper

SYSTEM = ("system", None)
NEW_KEY = "k2026b:" + base64.b64encode(b"a second key of thirty-two bytes").decode()


def _append(n, *, batch=1, account=1):
    """n events in one account's stream, committed `batch` at a time, as the portal does."""
    for start in range(0, n, batch):
        record_many([dict(action="test.event", subject_type="account", subject_id=account,
                          after={"n": i}, actor=SYSTEM)
                     for i in range(start, min(n, start + batch))])
        _db.session.commit()


def _ids(stream="account:1"):
    return list(_db.session.scalars(select(AuditEvent.id).where(AuditEvent.stream == stream)
                                    .order_by(AuditEvent.id)))


def _broken(runner, *args) -> str:
    """What `flask audit verify` says, having failed."""
    result = runner.invoke(args=["audit", "verify", *args])
    assert result.exit_code == 1 and "chain intact" not in result.output
    return result.output


def _head(stream="account:1"):
    _db.session.expire_all()
    return _db.session.get(AuditStreamHead, stream)


@pytest.fixture()
def anchors(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(tmp_path))
    return tmp_path


def _anchor(runner):
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    return result.output


def test_each_account_has_its_own_stream_and_head(runner, db):
    _append(30)
    _append(250, batch=100, account=2)
    record("test.single", actor=SYSTEM)
    _db.session.commit()
    for stream, count in (("account:1", 30), ("account:2", 250), ("system", 1)):
        newest = _db.session.scalars(select(AuditEvent).where(AuditEvent.stream == stream)
                                     .order_by(AuditEvent.id.desc())).first()
        head = _head(stream)
        assert (head.event_count, head.last_id, head.last_hash) == (count, newest.id, newest.hash)
        assert newest.seq == count and newest.key_id == "dev"
    assert verify_chain(batch_size=64) == (281, None)  # several batches of the walk
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK: 281 audit events, chain intact" in result.output


def test_one_batch_across_more_streams_than_one_lock_statement_takes_chains_each(db):
    record_many([dict(action="test.import", subject_type="account", subject_id=k % 700,
                      actor=SYSTEM) for k in range(1400)])  # as a feed import does
    _db.session.commit()
    assert _head("account:699").event_count == 2
    assert verify_chain() == (1400, None)


def test_events_about_what_an_account_owns_join_the_accounts_stream():
    class Plan:
        __tablename__ = "repayment_plan"
        id, account_id = 5, 42
    assert stream_for(Plan(), "repayment_plan", 5) == "account:42"
    assert stream_for(None, "account", "42") == "account:42"
    assert stream_for(None, "cardholder", 3) == "cardholder:3"
    assert stream_for(None, "staff_user", "3") == "staff_user:3"
    assert stream_for(None, "policy_version", "3") == "policy_version"
    assert stream_for() == "system"


def test_editing_an_event_and_recomputing_every_unkeyed_hash_is_a_break(runner, db):
    _append(5)
    ids = _ids()
    append_only_triggers_off()  # as someone with the database owner's rights would
    prev = GENESIS
    for event in _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.id == ids[2]:
            event.after = {"n": 999}
        event.prev_hash = prev
        event.hash = prev = _legacy_digest(event)  # all they can compute without the key
    head = _db.session.get(AuditStreamHead, "account:1")
    head.last_hash = prev
    _db.session.commit()
    assert f"BROKEN at audit event {ids[0]}: content does not match its keyed hash" in _broken(runner)


def test_passing_keyed_events_off_as_legacy_ones_is_a_break(db):
    _append(3)
    tamper("UPDATE audit_event SET key_id = 'legacy-sha256' WHERE id = :id", id=_ids()[0])
    assert "outside the legacy stream" in verify_chain()[1].reason


def test_a_legacy_event_after_keyed_ones_is_a_break(db):
    _append(2)
    newest = _db.session.get(AuditEvent, _ids()[-1])
    append_only_triggers_off()
    newest.stream, newest.key_id, newest.seq = "legacy", "legacy-sha256", None
    newest.prev_hash = GENESIS
    newest.hash = _legacy_digest(newest)
    _db.session.commit()
    assert "unkeyed legacy event written after keyed ones" in verify_chain()[1].reason


def test_deleting_the_newest_events_of_a_stream_is_a_break_naming_what_is_missing(runner, db):
    _append(30)
    _append(3, account=2)
    ids = _ids()
    tamper("DELETE FROM audit_event WHERE id >= :first AND stream = 'account:1'", first=ids[24])
    said = _broken(runner)
    assert (f"BROKEN at audit event {ids[-1]}: the newest 6 events were deleted from stream "
            f"account:1: it ends at audit event {ids[23]}") in said


def test_deleting_only_the_newest_event_is_a_break(db):
    _append(5)
    tamper("DELETE FROM audit_event WHERE id = :id", id=_ids()[-1])
    checked, broken = verify_chain()
    assert checked == 4 and "the newest event was deleted from stream account:1" in broken.reason


def test_deleting_every_event_is_a_break(runner, db):
    _append(3)
    tamper("DELETE FROM audit_event")
    assert "it is empty" in _broken(runner)


def test_deleting_a_middle_event_breaks_the_link_of_the_next(runner, db):
    _append(10)
    ids = _ids()
    tamper("DELETE FROM audit_event WHERE id = :id", id=ids[4])
    assert f"BROKEN at audit event {ids[5]}: links to a hash" in _broken(runner)


def test_editing_an_event_is_a_break_at_that_event(runner, db):
    _append(10)
    ids = _ids()
    tamper("UPDATE audit_event SET action = 'test.other' WHERE id = :id", id=ids[7])
    assert f"BROKEN at audit event {ids[7]}: content does not match its keyed hash" in _broken(runner)


def test_events_appended_after_a_deletion_do_not_hide_it(db):
    _append(10)
    ids = _ids()
    tamper("DELETE FROM audit_event WHERE id >= :first", first=ids[8])
    _append(3)
    checked, broken = verify_chain()
    assert checked == 8
    assert broken.event_id == _ids()[8] and "links to a hash" in broken.reason


def test_a_stream_without_a_head_row_is_a_break(runner, db):
    _append(3)
    tamper("DELETE FROM audit_stream_head")
    assert "BROKEN: stream account:1 has no head row" in _broken(runner)


def test_an_empty_log_is_intact(db):
    assert verify_chain() == (0, None)


def _bulk(accounts, fresh=()):
    return record_bulk([dict(action="test.import", subject_type="account", subject_id=a,
                             after={"n": a}, actor=SYSTEM) for a in accounts],
                       fresh=frozenset(f"account:{a}" for a in fresh))


def test_bulk_events_in_fresh_and_held_streams_chain_as_one_by_one_appends(db):
    _append(3, account=1)
    _bulk([1, 2, 3, 2], fresh=[2, 3])  # 2 and 3: created in this transaction, say
    _db.session.commit()
    _bulk([2, 3, 4])  # the streams exist now: held and moved on
    _db.session.commit()
    for stream, count in (("account:1", 4), ("account:2", 3), ("account:3", 2),
                          ("account:4", 1)):
        newest = _db.session.scalars(select(AuditEvent).where(AuditEvent.stream == stream)
                                     .order_by(AuditEvent.id.desc())).first()
        head = _head(stream)
        assert (head.event_count, head.last_id, head.last_hash) == (count, newest.id, newest.hash)
    assert verify_chain() == (10, None)


def test_a_fresh_stream_someone_else_wrote_is_refused_not_forked(db):
    _append(2, account=5)
    with pytest.raises(IntegrityError):
        _bulk([5], fresh=[5])
        _db.session.flush()
    _db.session.rollback()
    assert _head("account:5").event_count == 2
    assert verify_chain() == (2, None)


def test_a_rolled_back_append_leaves_the_head_as_it_was(db):
    _append(2)
    before = _head()
    before = (before.event_count, before.last_hash)
    record("test.undone", subject_type="account", subject_id=1, actor=SYSTEM)
    _db.session.rollback()
    after = _head()
    assert (after.event_count, after.last_hash) == before
    assert verify_chain() == (2, None)


def test_two_events_in_the_same_place_of_a_stream_are_refused_by_the_database(db):
    _append(2)
    first = _db.session.get(AuditEvent, _ids()[0])
    fork = AuditEvent(created_at=first.created_at, actor_type="system", action="test.fork",
                      stream=first.stream, seq=first.seq, key_id=first.key_id,
                      prev_hash=first.prev_hash, hash="f" * 64)
    _db.session.add(fork)
    with pytest.raises(IntegrityError):
        _db.session.flush()


def test_rewinding_a_stream_and_its_head_is_caught_by_the_anchor(runner, db, anchors):
    _append(5)
    _append(2, account=2)
    _anchor(runner)
    ids = _ids()
    previous = _db.session.get(AuditEvent, ids[-2])
    tamper("DELETE FROM audit_event WHERE id = :id", id=ids[-1])
    tamper("UPDATE audit_stream_head SET event_count = 4, last_id = :id, last_hash = :hash "
           "WHERE stream = 'account:1'", id=previous.id, hash=previous.hash)
    said = _broken(runner)
    assert "does not match anchor" in said and "7 events in 2 streams were signed" in said


def test_events_after_the_newest_anchor_are_checked_by_their_chains(runner, db, anchors):
    _append(3)
    _anchor(runner)
    _append(3)
    _append(1, account=9)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK: 7 audit events" in result.output
    tamper("UPDATE audit_event SET action = 'test.other' WHERE id = :id", id=_ids()[-1])
    assert "content does not match its keyed hash" in _broken(runner)


def test_verify_warns_when_the_newest_anchor_is_more_than_a_day_old(runner, db, anchors, clock):
    _append(1)
    assert "WARNING: no anchor yet" in runner.invoke(args=["audit", "verify"]).output
    _anchor(runner)
    clock.shift(timedelta(hours=25))
    assert "WARNING" not in runner.invoke(args=["audit", "verify"]).output
    clock.shift(timedelta(hours=2))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "WARNING: the newest anchor (" in result.output
    assert "is from 2026-11-28 01:" in result.output


def test_a_forged_anchor_is_a_break(runner, db, anchors):
    _append(3)
    _anchor(runner)
    tamper("UPDATE audit_anchor SET event_count = 2, signature = :s", s="0" * 64)
    assert "does not match anchor" in _broken(runner)


def test_the_anchor_written_outside_the_database_catches_its_deletion(runner, db, anchors):
    _append(3)
    assert "3 events in 1 streams, written to" in _anchor(runner)
    [path] = list(anchors.iterdir())
    written = json.loads(path.read_text())
    assert written["events"] == 3 and written["signature"] == _db.session.scalar(
        select(AuditAnchor.signature))
    result = runner.invoke(args=["audit", "verify", "--anchor", str(path)])
    assert result.exit_code == 0, result.output
    tamper("DELETE FROM audit_anchor")
    assert "exported outside the database is not the one the database holds" in _broken(
        runner, "--anchor", str(path))


def test_events_under_a_rotated_key_still_verify(app, runner, db, monkeypatch, anchors):
    _append(3)
    _anchor(runner)
    monkeypatch.setitem(app.config, "AUDIT_KEYS", f"{NEW_KEY},{app.config['AUDIT_KEYS']}")
    _append(2)
    assert [e.key_id for e in _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] \
        == ["dev"] * 3 + ["k2026b"] * 2
    assert verify_chain() == (5, None)
    monkeypatch.setitem(app.config, "AUDIT_KEYS", NEW_KEY)  # the old key dropped too soon
    assert "which AUDIT_KEYS does not hold" in _broken(runner)


POSTGRES = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                              reason="needs TEST_DATABASE_URL (PostgreSQL)")


def test_concurrent_appends_to_one_stream_never_fork(app, db):
    """On SQLite too: there the head is read under the database's write lock."""
    _append(1)

    def append(i):
        return record_many([dict(action="test.concurrent", subject_type="account", subject_id=1,
                                 after={"i": i, "k": k}, actor=SYSTEM) for k in range(3)])

    _, errors = run_together(app, append, 8)
    assert errors == []
    _db.session.expire_all()
    seqs = list(_db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, 26))
    assert _head().event_count == 25
    assert verify_chain() == (25, None)


@pytest.mark.postgres
@POSTGRES
def test_appends_to_different_streams_do_not_wait_for_each_other(app, db):
    other_done = threading.Event()

    def append(i):
        record("test.concurrent", subject_type="account", subject_id=i + 1, actor=SYSTEM)
        if i == 0:  # holds account:1's head until account:2's append has committed
            return other_done.wait(20)
        _db.session.commit()
        other_done.set()
        return True

    results, errors = run_together(app, append, 2)
    assert errors == [] and results == [True, True]
    assert _db.session.scalar(select(func.count(AuditEvent.id))) == 2
    assert verify_chain() == (2, None)


@pytest.mark.postgres
@POSTGRES
def test_an_anchor_waits_for_appends_in_flight(app, db, anchors):
    _append(2)

    def work(i):
        if i == 0:
            return record_many([dict(action="test.concurrent", subject_type="account",
                                     subject_id=k, actor=SYSTEM) for k in range(20)])
        return make_anchor()

    _, errors = run_together(app, work, 2)
    assert errors == []
    assert verify_chain() == (22, None)
