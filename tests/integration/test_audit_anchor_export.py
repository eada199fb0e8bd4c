"""The audit log's global head goes out as an export: one file per signed anchor, written
again byte for byte by a re-run and never replaced when it differs, and `audit verify --anchor
FILE` holds the log to it, even against someone who holds the audit key."""
from sqlalchemy import func, select

from portal.audit.models import AuditAnchor, AuditEvent, AuditStreamHead
from portal.audit.services import _digest, _sign_anchor, _signing_key, record_many
from portal.exports.anchors import anchor_and_export, export_anchors
from portal.extensions import db as _db
from tests.helpers import tamper
from tests.integration.test_audit_chains import _anchor, _append, _broken, anchors  # noqa: F401

FILE = "audit-anchor-{:06d}.json"


def _files(directory):
    return sorted(p.name for p in directory.iterdir())


def test_the_daily_step_signs_and_exports_one_file_per_anchor(db, anchors):  # noqa: F811
    _append(3)
    first = anchor_and_export()
    assert first.path == str(anchors / FILE.format(first.anchor.id))
    _append(2, account=2)
    second = anchor_and_export()
    assert _files(anchors) == [FILE.format(first.anchor.id), FILE.format(second.anchor.id)]
    assert second.export.written == [second.path] and second.export.unchanged == 1
    assert '"events": 5' in (anchors / FILE.format(second.anchor.id)).read_text()
    assert _db.session.scalar(select(AuditAnchor.event_count).order_by(
        AuditAnchor.id.desc()).limit(1)) == 5  # committed: the scheduler's step is complete


def test_a_rerun_writes_the_same_bytes_and_only_what_is_missing(runner, db, anchors,  # noqa: F811
                                                                 tmp_path_factory):
    _append(3)
    _anchor(runner)
    _append(1)
    _anchor(runner)
    before = {name: (anchors / name).read_bytes() for name in _files(anchors)}
    (anchors / _files(anchors)[0]).unlink()
    result = runner.invoke(args=["exports", "anchors"])
    assert result.exit_code == 0 and "1 written, 1 already there" in result.output
    assert {name: (anchors / name).read_bytes() for name in _files(anchors)} == before
    elsewhere = tmp_path_factory.mktemp("copy")
    assert runner.invoke(args=["exports", "anchors", "--out-dir", str(elsewhere)]).exit_code == 0
    assert {name: (elsewhere / name).read_bytes() for name in _files(elsewhere)} == before
    newest = _db.session.scalar(select(func.max(AuditAnchor.id)))
    assert export_anchors(str(elsewhere), since_id=newest).written == []


def test_an_anchor_file_that_differs_is_never_replaced(runner, db, anchors):  # noqa: F811
    _append(2)
    _anchor(runner)
    [path] = anchors.iterdir()
    path.write_text(path.read_text().replace('"events": 2', '"events": 9'))
    altered = path.read_bytes()
    result = runner.invoke(args=["exports", "anchors"])
    assert result.exit_code == 1 and "as the database holds it: one of the two was altered"  in result.output
    result = runner.invoke(args=["audit", "anchor"])  # the daily step says so too
    assert result.exit_code == 1 and "BROKEN" in result.output
    assert path.read_bytes() == altered


def _rewrite_as_key_holder(event_id: int, action: str, resign_anchors: bool = True) -> None:
    """Edit an event and re-sign its stream from there on, its head and every anchor, with the
    key: what someone holding both the database and the audit key could do."""
    key_id, key = _signing_key()
    event = _db.session.get(AuditEvent, event_id)
    later = list(_db.session.scalars(select(AuditEvent).where(
        AuditEvent.stream == event.stream, AuditEvent.id >= event_id).order_by(AuditEvent.id)))
    _db.session.expunge_all()
    prev = later[0].prev_hash
    for i, row in enumerate(later):
        row.prev_hash = prev
        if i == 0:
            row.action = action
        row.hash = _digest(row, key)
        prev = row.hash
        tamper("UPDATE audit_event SET action = :a, prev_hash = :p, hash = :h WHERE id = :id",
               a=row.action, p=row.prev_hash, h=row.hash, id=row.id)
    tamper("UPDATE audit_stream_head SET last_hash = :h WHERE stream = :s",
           h=prev, s=event.stream)
    if not resign_anchors:
        return
    heads = _db.session.execute(select(AuditStreamHead.stream, AuditStreamHead.event_count,
                                       AuditStreamHead.last_hash)
                                .where(AuditStreamHead.event_count > 0)).all()
    for anchor in list(_db.session.scalars(select(AuditAnchor))):
        tamper("UPDATE audit_anchor SET signature = :s WHERE id = :id",
               s=_sign_anchor(anchor, heads, key), id=anchor.id)


def test_verify_against_the_exported_anchor_fails_when_an_event_under_it_was_altered(
        runner, db, anchors):  # noqa: F811
    _append(3)
    record_many([dict(action="test.event", subject_type="account", subject_id=2, after={},
                      actor=("system", None))])
    _db.session.commit()
    _anchor(runner)
    [path] = anchors.iterdir()
    assert runner.invoke(args=["audit", "verify", "--anchor", str(path)]).exit_code == 0
    first = _db.session.scalar(select(AuditEvent.id).where(AuditEvent.stream == "account:1")
                               .order_by(AuditEvent.id))
    _rewrite_as_key_holder(first, "test.rewritten")
    # The database alone no longer tells: chains, heads and its own anchor were all re-signed.
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    said = _broken(runner, "--anchor", str(path))
    assert "exported outside the database is not the one the database holds" in said


def test_verify_against_the_exported_anchor_fails_when_an_event_was_rewritten_under_it(
        runner, db, anchors):  # noqa: F811
    _append(3)
    _anchor(runner)
    [path] = anchors.iterdir()
    _append(2)  # after the anchor: checked by the chain, not the anchor
    first = _db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id))
    _rewrite_as_key_holder(first, "test.rewritten", resign_anchors=False)
    said = _broken(runner, "--anchor", str(path))
    assert "does not match anchor" in said and "3 events in 1 streams were signed" in said
