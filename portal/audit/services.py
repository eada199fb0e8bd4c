"""Writing and verifying the audit log: keyed hash chains, one per stream, a head per stream
and signed global anchors (docs/audit.md)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timezone
from functools import lru_cache
from operator import attrgetter

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import func, literal, null, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from portal.audit.models import AuditAnchor, AuditEvent, AuditStreamHead
from portal.bulk import (
    allocate_ids, fetch_all, insert_rows, is_postgres, stage_table, update_rows,
)
from portal.extensions import db
from portal.timeutil import as_aware, utcnow

GENESIS = "0" * 64
_EVENT_COLUMNS = ("created_at", "actor_type", "actor_id", "action", "subject_type", "subject_id",
                  "before", "after", "ip", "stream", "seq", "key_id", "prev_hash", "hash")
LEGACY_STREAM = "legacy"  # the one unkeyed chain written before keyed streams (migration 0017)
LEGACY_KEY_ID = "legacy-sha256"
SYSTEM_STREAM = "system"
MIN_KEY_BYTES = 16


class AuditKeyError(ValueError):
    """AUDIT_KEYS is missing or malformed."""


def parse_keys(spec: str | None) -> dict[str, bytes]:
    """`id:base64secret,id2:base64secret` -> {id: secret}, in order: the first signs new
    events and anchors, the others only verify what they signed before a rotation."""
    keys: dict[str, bytes] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, secret = part.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id or len(key_id) > 32 or key_id == LEGACY_KEY_ID:
            raise AuditKeyError(f"AUDIT_KEYS entry {key_id or part[:8]!r}: expected id:base64secret")
        try:
            raw = base64.b64decode(secret.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AuditKeyError(f"AUDIT_KEYS key {key_id!r} is not base64") from exc
        if len(raw) < MIN_KEY_BYTES:
            raise AuditKeyError(f"AUDIT_KEYS key {key_id!r} is shorter than {MIN_KEY_BYTES} bytes")
        if key_id in keys:
            raise AuditKeyError(f"AUDIT_KEYS names key {key_id!r} twice")
        keys[key_id] = raw
    return keys


@lru_cache(maxsize=8)
def _parsed_keys(spec: str | None) -> tuple[tuple[str, bytes], ...]:
    # Every audit event asks for the keys: parse the setting once per distinct value.
    return tuple(parse_keys(spec).items())


def _keys() -> dict[str, bytes]:
    keys = dict(_parsed_keys(current_app.config.get("AUDIT_KEYS")))
    if not keys:
        raise AuditKeyError("AUDIT_KEYS is not set: the audit log cannot be signed")
    return keys


def _signing_key() -> tuple[str, bytes]:
    return next(iter(_keys().items()))


def _normalise(value):
    """What is hashed must be exactly what is stored and read back: the value as JSON gives
    it back (dates and other objects as str, tuples as lists)."""
    if value is None:
        return None
    plain = _plain(value)
    if plain is _UNPLAIN:
        return json.loads(json.dumps(value, default=str, sort_keys=True))
    return plain


_UNPLAIN = object()
_KEPT = frozenset((str, int, bool))  # exactly these types: the round trip gives them back


def _plain(value):
    """`_normalise` without the JSON round trip, for what the round trip gives back unchanged
    but for str() of other objects (a bulk import writes 100,000 events); _UNPLAIN for
    anything else (floats, non-text keys), which takes the round trip."""
    if value is None or type(value) in _KEPT:
        return value
    if isinstance(value, str):  # a str enum: JSON keeps the text
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        if not all(type(key) is str for key in value):
            return _UNPLAIN
        out = {}
        for key in sorted(value):  # the key order the round trip (sort_keys) gives
            item = value[key]
            if item is not None and type(item) not in _KEPT:  # kept as they are: no call
                item = _plain(item)
                if item is _UNPLAIN:
                    return _UNPLAIN
            out[key] = item
        return out
    if isinstance(value, (list, tuple)):
        out = [_plain(item) for item in value]
        return _UNPLAIN if any(item is _UNPLAIN for item in out) else out
    if isinstance(value, float):
        return _UNPLAIN
    return str(value)


def _payload(event: AuditEvent) -> dict:
    return {
        "prev": event.prev_hash,
        "at": as_aware(event.created_at).astimezone(timezone.utc).isoformat(),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
    }


# What json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False) uses,
# built once: json.dumps builds an encoder on every call made with options.
_BLOB_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _blob(payload: dict) -> bytes:
    return _BLOB_ENCODER.encode(payload).encode("utf-8")


def _legacy_digest(event: AuditEvent) -> str:
    """The unkeyed SHA-256 of events written before keyed streams (verified, never written)."""
    return hashlib.sha256(_blob(_payload(event))).hexdigest()


def _digest(event: AuditEvent, key: bytes) -> str:
    payload = _payload(event) | {"stream": event.stream, "seq": event.seq, "key": event.key_id}
    mac = _keyed(key).copy()  # the key's HMAC state, set up once per key
    mac.update(_blob(payload))
    return mac.hexdigest()


@lru_cache(maxsize=8)
def _keyed(key: bytes):
    return hmac.new(key, digestmod=hashlib.sha256)


def _current_actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        kind = "staff" if current_user.is_staff else "cardholder"
        return kind, str(current_user.id)
    return ("anonymous", None) if has_request_context() else ("system", None)


# Subjects that act at once in numbers (sign-ins, codes): a stream each, not one per type.
STREAM_PER_SUBJECT = ("account", "cardholder", "staff_user")


def stream_for(subject=None, subject_type=None, subject_id=None) -> str:
    """An account's events, and events about anything it owns, form the account's stream; a
    cardholder's and a staff user's events about themselves form theirs; others go to a stream
    per subject type, or "system"."""
    if subject_type in STREAM_PER_SUBJECT and subject_id is not None:
        return f"{subject_type}:{subject_id}"[:64]
    account_id = getattr(subject, "account_id", None) if subject is not None else None
    if isinstance(account_id, int):
        return f"account:{account_id}"
    return (subject_type or SYSTEM_STREAM)[:64]


LOCK_CHUNK = 500  # streams locked per statement by a batch


def lock_order(stream: str) -> tuple[int, str]:
    """The order in which streams are locked: by length, then name, which for account:<id>
    is id order, the order in which the nightly run appends to them one call at a time. Every
    writer taking its streams in one order is what keeps two writers from deadlocking."""
    return len(stream), stream


# PostgreSQL: one constant statement each (compiled once, prepared by psycopg), whatever the
# number of streams or events: the rows travel as arrays. A multi-row VALUES is compiled
# afresh by SQLAlchemy on every call (it does not cache them), which cost an online posting
# more CPU than anything else it did.
_LOCK_HEADS = text(
    # A new head is inserted, an existing one "updated" to itself, which locks it like FOR
    # UPDATE; rows go in the order given (`lock_order`), so two writers never deadlock.
    "INSERT INTO audit_stream_head (stream, event_count, last_id, last_hash) "
    "SELECT s.stream, 0, NULL, :genesis "
    "FROM unnest(CAST(:streams AS varchar[])) WITH ORDINALITY AS s(stream, n) ORDER BY s.n "
    "ON CONFLICT (stream) DO UPDATE SET stream = excluded.stream "
    "RETURNING stream, event_count, last_hash")
_EVENT_TYPES = dict(created_at="timestamptz", before="json", after="json", seq="bigint")
# The chained events inserted and their streams' heads moved: two CTEs, `inserted` and
# `moved`, of `_APPEND` and of a hot path's one statement (`append_ctes`).
APPEND_CTES = (
    f"inserted AS (INSERT INTO audit_event ({', '.join(_EVENT_COLUMNS)}) "
    "SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {_EVENT_TYPES.get(c, 'varchar')}[])" for c in _EVENT_COLUMNS)
    + ") RETURNING id, stream, seq), "
    "moved AS (UPDATE audit_stream_head h "
    "SET event_count = t.seq, last_hash = t.hash, last_id = i.id "
    "FROM unnest(CAST(:tip_stream AS varchar[]), CAST(:tip_seq AS bigint[]), "
    "CAST(:tip_hash AS varchar[])) AS t(stream, seq, hash) JOIN inserted i "
    "ON i.stream = t.stream AND i.seq = t.seq "
    "WHERE h.stream = t.stream RETURNING h.stream)")
_APPEND = text(
    # The chained events inserted and their streams' heads moved in one round trip.
    "WITH " + APPEND_CTES + " "
    "SELECT i.id, i.stream, i.seq, (SELECT count(*) FROM moved) AS moved FROM inserted i")


def head_lock(stream, condition):
    """A CTE (PostgreSQL) that takes `stream`'s head as `_lock_streams` does (created when
    new, locked, read: columns event_count and last_hash), only where the SQL `condition`
    holds: for a hot path that locks its one head in the statement that reads what it needs,
    and only once it knows it will append (so that a path that turns back holds no head)."""
    heads = AuditStreamHead.__table__
    source = select(stream, literal(0), null(), literal(GENESIS)).where(condition)
    insert = postgresql.insert(heads).from_select(
        ["stream", "event_count", "last_id", "last_hash"], source)
    return (insert.on_conflict_do_update(index_elements=["stream"],
                                         set_={"stream": insert.excluded.stream})
            .returning(heads.c.event_count, heads.c.last_hash).cte("audit_head"))


def heads_lock_where(stream, condition):
    """`head_lock` for many streams (PostgreSQL): a CTE taking the head of `stream` (a SQL
    expression over the enclosing statement's FROM items, one row a stream) for each row
    where `condition` holds, the rows sorted into `lock_order` first (so every row's
    `condition`, and the locks it takes, is evaluated before the first head is taken).
    Columns stream, event_count, last_hash."""
    heads = AuditStreamHead.__table__
    source = (select(stream, literal(0), null(), literal(GENESIS)).where(condition)
              .order_by(func.length(stream), stream))
    insert = postgresql.insert(heads).from_select(
        ["stream", "event_count", "last_id", "last_hash"], source)
    return (insert.on_conflict_do_update(index_elements=["stream"],
                                         set_={"stream": insert.excluded.stream})
            .returning(heads.c.stream, heads.c.event_count, heads.c.last_hash)
            .cte("audit_heads"))


def plain_append(action, tip: tuple[int, str], **spec) -> dict:
    """`record`'s event without an ORM object (a `_Draft`: for a hot path that never reads
    it back), chained after `tip` (its stream's event count and newest hash, read from a
    head the caller holds: `head_lock`): the parameters of `APPEND_CTES`. The caller checks
    what the statement wrote with `check_plain_append`."""
    made, key = _drafts([dict(spec, action=action)], _Draft)
    return _append_params(made, _chain(made, {made[0].stream: tip}, key))


def plain_append_many(specs: list[dict], tips: dict[str, tuple[int, str]]) -> dict:
    """`plain_append` for several events (each spec `record`'s keyword arguments plus
    `action`), chained in order after their streams' tips (every stream they go to must be
    in `tips`, read from heads the caller holds): the parameters of `APPEND_CTES`, whose
    counts the caller checks with `check_plain_appends`."""
    made, key = _drafts(specs, _Draft)
    return _append_params(made, _chain(made, dict(tips), key))


def check_plain_appends(inserted: int, moved: int, params: dict) -> None:
    """Every event of `plain_append_many`'s `params` inserted and each stream's head moved."""
    if inserted != len(params["seq"]) or moved != len(params["tip_stream"]):
        raise RuntimeError("audit append: events or stream heads not written as chained")


def check_plain_append(event_id, moved: int) -> None:
    """One event inserted and its head moved, as `_append_rows` checks."""
    if event_id is None or moved != 1:
        raise RuntimeError("audit append: event or stream head not written as chained")


def _lock_streams(streams: list[str]) -> dict:
    """Take the head rows of `streams` (in `lock_order`) for this transaction, creating those of new
    streams, and read them: appends to these streams queue here, appends to others do not.
    Rows are created and locked in `lock_order`, so two batches never deadlock. On SQLite the
    insert takes the database's write lock before the heads are read."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    heads = {}
    for start in range(0, len(streams), LOCK_CHUNK):
        chunk = streams[start:start + LOCK_CHUNK]
        if postgres:  # one round trip
            heads.update((row.stream, row) for row in db.session.execute(
                _LOCK_HEADS, {"streams": chunk, "genesis": GENESIS}))
            continue
        db.session.execute(sqlite.insert(AuditStreamHead).values(
            [dict(stream=s, event_count=0, last_id=None, last_hash=GENESIS) for s in chunk])
            .on_conflict_do_nothing(index_elements=["stream"]))
        heads.update((row.stream, row) for row in db.session.execute(
            select(AuditStreamHead.stream, AuditStreamHead.event_count, AuditStreamHead.last_hash)
            .where(AuditStreamHead.stream.in_(chunk))
            .order_by(func.length(AuditStreamHead.stream), AuditStreamHead.stream)
            .with_for_update()))
    return heads


LANES = 8  # streams a job that runs in several processes at once appends its own events to


def lane(prefix: str, lanes: int = LANES) -> str:
    """A stream for a job's own events (no account, no person) when several processes of the
    job append at once: the first of `prefix:0` .. `prefix:<lanes-1>` whose head no other
    transaction holds, locked for this one until it ends (PostgreSQL: FOR UPDATE SKIP LOCKED,
    so processes never queue on one head); with every lane held, one of them, waited for. On
    SQLite writers are serialised anyway: `prefix:0`. Each lane is an ordinary stream."""
    names = [f"{prefix}:{i}"[:64] for i in range(lanes)]
    if not is_postgres():
        return names[0]
    free = (select(AuditStreamHead.stream).where(AuditStreamHead.stream.in_(names))
            .order_by(func.length(AuditStreamHead.stream), AuditStreamHead.stream).limit(1)
            .with_for_update(skip_locked=True))
    found = db.session.scalar(free)
    if found is None:  # the lanes' heads do not exist yet, or every one is held
        db.session.execute(
            postgresql.insert(AuditStreamHead).values([dict(stream=s, event_count=0, last_id=None,
                                                            last_hash=GENESIS) for s in names])
            .on_conflict_do_nothing(index_elements=["stream"]))
        found = db.session.scalar(free) or names[db.session.scalar(
            text("SELECT pg_backend_pid()")) % lanes]
    return found


def record(action, *, subject=None, subject_type=None, subject_id=None,
           before=None, after=None, actor=None, stream=None) -> AuditEvent:
    """Append one event to its stream in the current transaction (flushed, not committed).

    `subject` may be a model instance; its table name and id become the subject.
    `actor` is a (type, id) pair; by default the signed-in user, else anonymous/system.
    `stream` overrides the subject's stream (e.g. a `lane`).
    """
    return record_many([dict(action=action, subject=subject, subject_type=subject_type,
                             subject_id=subject_id, before=before, after=after, actor=actor,
                             stream=stream)])[0]


def _drafts(events: list[dict], make) -> tuple[list, bytes]:
    """Each event spec as `make(**fields)`, stream and key chosen, not yet chained."""
    key_id, key = _signing_key()
    at = utcnow().replace(microsecond=0)
    ip = request.remote_addr if has_request_context() else None
    default_actor = None
    made = []
    for spec in events:
        subject = spec.get("subject")
        subject_type, subject_id = spec.get("subject_type"), spec.get("subject_id")
        if subject is not None:
            subject_type = subject_type or subject.__tablename__
            subject_id = subject_id if subject_id is not None else subject.id
        actor = spec.get("actor")
        if actor is None:
            default_actor = default_actor or _current_actor()
            actor = default_actor
        actor_type, actor_id = actor
        made.append(make(
            created_at=at,
            actor_type=actor_type,
            actor_id=None if actor_id is None else str(actor_id),
            action=spec["action"],
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            before=_normalise(spec.get("before")),
            after=_normalise(spec.get("after")),
            ip=ip,
            stream=spec.get("stream") or stream_for(subject, subject_type, subject_id),
            key_id=key_id,
        ))
    return made, key


def _chain(made: list, tips: dict, key: bytes) -> dict:
    """Give each event its place, link and hash, after its stream's (count, newest hash) in
    `tips` (moved on as events are chained); returns each stream's newest event."""
    for event in made:
        count, prev = tips[event.stream]
        event.seq, event.prev_hash = count + 1, prev
        event.hash = _digest(event, key)
        tips[event.stream] = (event.seq, event.hash)
    return {event.stream: event for event in made}


def build_events(events: list[dict], key_id: str | None = None) -> list[AuditEvent]:
    """The events `record_many` appends, each with its stream and key but not yet in it (no
    place, no link, no hash): for bench/audit.py's unchained floor."""
    return _drafts(events, AuditEvent)[0]


def record_many(events: list[dict]) -> list[AuditEvent]:
    """Append several events, in order, locking each stream they touch once (in `lock_order`,
    so two batches never deadlock) and flushing once. Each dict takes `record`'s keyword
    arguments plus `action`."""
    if not events:
        return []
    made, key = _drafts(events, AuditEvent)
    heads = _lock_streams(sorted({e.stream for e in made}, key=lock_order))
    newest = _chain(made, {stream: (head.event_count, head.last_hash)
                           for stream, head in heads.items()}, key)
    if is_postgres():
        _append_in_one(made, newest)
        return made
    db.session.add_all(made)
    db.session.flush()
    db.session.execute(update(AuditStreamHead), [
        dict(stream=stream, event_count=e.seq, last_id=e.id, last_hash=e.hash)
        for stream, e in newest.items()], execution_options={"synchronize_session": False})
    return made


def _append_in_one(made: list[AuditEvent], newest: dict) -> None:
    """PostgreSQL: insert the chained events and move their streams' heads (locked by
    `_lock_streams`) in one statement, one round trip instead of an INSERT and an UPDATE. The
    events then join the session as if loaded (persistent, with their ids), as a flush would
    have left them. Pending changes are flushed first, as `record_many` always did."""
    db.session.flush()
    _append_rows(made, newest)
    for event in made:
        make_transient_to_detached(event)
        db.session.add(event)


def _append_params(made: list, newest: dict) -> dict:
    """The parameters of `APPEND_CTES` for the chained events `made`."""
    params = {c: [getattr(e, c) for e in made] for c in _EVENT_COLUMNS}
    # As the JSON type would send them (json.dumps; None as JSON null).
    params["before"] = [json.dumps(e.before) for e in made]
    params["after"] = [json.dumps(e.after) for e in made]
    params.update(tip_stream=list(newest), tip_seq=[e.seq for e in newest.values()],
                  tip_hash=[e.hash for e in newest.values()])
    return params


def _append_rows(made: list, newest: dict) -> None:
    """`_append_in_one`'s statement: the events (ORM objects or `_Draft`s) get their ids."""
    rows = db.session.execute(_APPEND, _append_params(made, newest)).all()
    ids = {(row.stream, row.seq): row.id for row in rows}
    if len(ids) != len(made) or any(row.moved != len(newest) for row in rows):
        raise RuntimeError("audit append: events or stream heads not written as chained")
    for event in made:
        event.id = ids[(event.stream, event.seq)]


class _Draft:
    """An audit event as `record_bulk` writes it: the fields, without an ORM object."""

    __slots__ = ("id", *_EVENT_COLUMNS)

    def __init__(self, **fields) -> None:
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


def _lock_streams_bulk(streams: list[str]) -> dict[str, tuple[int, str]]:
    """`_lock_streams` for many streams at once: the names are staged in a temporary table,
    missing heads created and all of them locked in `lock_order` by one statement each.
    Returns each stream's (event count, newest hash)."""
    stage_table("audit_lock", [("stream", "VARCHAR(64)")], [(s,) for s in streams])
    order = "length(stream), stream"
    if is_postgres():
        db.session.execute(text(
            "INSERT INTO audit_stream_head (stream, event_count, last_id, last_hash) "
            f"SELECT stream, 0, NULL, :g FROM audit_lock ORDER BY {order} "
            "ON CONFLICT (stream) DO NOTHING"), {"g": GENESIS})
        lock = " FOR UPDATE OF h"
    else:
        db.session.execute(text(
            "INSERT OR IGNORE INTO audit_stream_head (stream, event_count, last_id, last_hash) "
            f"SELECT stream, 0, NULL, :g FROM audit_lock ORDER BY {order}"), {"g": GENESIS})
        lock = ""
    # Plain tuples from the driver: SQLAlchemy's row objects cost more than the statement.
    rows = fetch_all(text(
        "SELECT h.stream, h.event_count, h.last_hash FROM audit_stream_head h "
        "JOIN audit_lock l ON l.stream = h.stream "
        f"ORDER BY length(h.stream), h.stream{lock}"))
    return {stream: (count, last_hash) for stream, count, last_hash in rows}


@dataclass
class Drafted:
    """Events `draft_bulk` made, those of fresh streams chained; `append_bulk` writes them."""
    made: list
    key: bytes
    fresh: frozenset[str]
    newest: dict  # stream -> its newest event, for the streams chained so far


def draft_bulk(events: list[dict], fresh: frozenset[str] = frozenset()) -> Drafted:
    """`record_bulk`'s first half, which uses no database (a caller may run it while its
    connection is busy, `portal.bulk.inserted_behind`): the events drafted and those of the
    `fresh` streams (see `record_bulk`) chained from nothing."""
    made, key = _drafts(events, _Draft)
    newest = _chain([e for e in made if e.stream in fresh],
                    {stream: (0, GENESIS) for stream in {e.stream for e in made} & fresh}, key)
    return Drafted(made, key, fresh, newest)


def append_bulk(drafted: Drafted) -> int:
    """`record_bulk`'s second half: the other streams locked and chained, every event
    written and the heads moved. Returns how many events were written."""
    made, fresh = drafted.made, drafted.fresh
    if not made:
        return 0
    held = sorted({e.stream for e in made} - fresh, key=lock_order)
    newest = dict(drafted.newest)
    if held:
        newest.update(_chain([e for e in made if e.stream not in fresh],
                             _lock_streams_bulk(held), drafted.key))
    for event, event_id in zip(made, allocate_ids(AuditEvent.__table__, len(made))):
        event.id = event_id
    columns = ("id", *_EVENT_COLUMNS)
    insert_rows(AuditEvent.__table__, columns, list(map(attrgetter(*columns), made)))
    heads = [(stream, e.seq, e.id, e.hash) for stream, e in newest.items()]
    update_rows(AuditStreamHead.__table__, "stream", ("event_count", "last_id", "last_hash"),
                [head for head in heads if head[0] not in fresh])
    insert_rows(AuditStreamHead.__table__, ("stream", "event_count", "last_id", "last_hash"),
                sorted((head for head in heads if head[0] in fresh),
                       key=lambda head: lock_order(head[0])))
    return len(made)


def record_bulk(events: list[dict], fresh: frozenset[str] = frozenset()) -> int:
    """`record_many` for batch jobs writing thousands of events (the feed import): the same
    events, links, hashes, locks and heads, written with COPY (portal.bulk) instead of one ORM
    object each. Returns how many were written.

    `fresh`: streams no other transaction can have written to, because their subject was
    created in this one (a new account's id is nobody else's until it commits): they start
    from nothing and their heads are inserted as they end, not created, locked and updated.
    Should another transaction write one anyway, the head's or the events' unique keys refuse
    this one's; no chain is ever forked."""
    return append_bulk(draft_bulk(events, fresh))


# -- anchors ---------------------------------------------------------------------------------

def _anchor_blob(anchor: AuditAnchor, heads) -> bytes:
    """What an anchor signs: its cut and every stream's (name, length, newest hash), sorted."""
    return _blob({
        "at": as_aware(anchor.created_at).astimezone(timezone.utc).isoformat(),
        "last_event_id": anchor.last_event_id, "key": anchor.key_id,
        "heads": [[s, n, h] for s, n, h in sorted(heads)],
    })


def _sign_anchor(anchor: AuditAnchor, heads, key: bytes) -> str:
    return hmac.new(key, _anchor_blob(anchor, heads), hashlib.sha256).hexdigest()


def _lock_all_streams() -> None:
    """Wait for appends in flight and hold new ones off until this transaction ends, so the
    heads read next and the newest event id describe one moment."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE audit_stream_head IN EXCLUSIVE MODE"))
    else:  # a write that changes nothing takes SQLite's write lock
        db.session.execute(update(AuditStreamHead).where(AuditStreamHead.event_count < 0)
                           .values(event_count=0),
                           execution_options={"synchronize_session": False})


def make_anchor() -> AuditAnchor:
    """Sign the heads of every stream as they stand (flushed, not committed). The caller
    writes `anchor_record(anchor)` outside the database once committed."""
    key_id, key = _signing_key()
    _lock_all_streams()
    heads = db.session.execute(
        select(AuditStreamHead.stream, AuditStreamHead.event_count, AuditStreamHead.last_hash)
        .where(AuditStreamHead.event_count > 0)).all()
    last_event_id = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    anchor = AuditAnchor(created_at=utcnow().replace(microsecond=0), last_event_id=last_event_id,
                         stream_count=len(heads), event_count=sum(n for _, n, _ in heads),
                         key_id=key_id)
    anchor.signature = _sign_anchor(anchor, heads, key)
    db.session.add(anchor)
    db.session.flush()
    return anchor


def anchor_record(anchor: AuditAnchor) -> dict:
    """The anchor as written outside the database (one JSON object)."""
    return {"anchor": anchor.id,
            "at": as_aware(anchor.created_at).astimezone(timezone.utc).isoformat(),
            "last_event_id": anchor.last_event_id, "streams": anchor.stream_count,
            "events": anchor.event_count, "key": anchor.key_id, "signature": anchor.signature}


# -- verification ----------------------------------------------------------------------------

@dataclass
class ChainBreak:
    event_id: int | None  # None when no event can be named
    reason: str
    stream: str | None = None


@dataclass
class _Tip:
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS


def _check_event(event: AuditEvent, tip: _Tip, keys: dict[str, bytes], keyed_seen: bool
                 ) -> str | None:
    if event.key_id == LEGACY_KEY_ID and keyed_seen:
        return ("is an unkeyed legacy event written after keyed ones (legacy events all "
                "predate keyed streams: the log was rewritten without the key)")
    if event.prev_hash != tip.last_hash:
        return ("links to a hash that is not the previous event's in its stream (an event was "
                "deleted, inserted or the stream forked)")
    if event.key_id == LEGACY_KEY_ID:
        if event.stream != LEGACY_STREAM:
            return "claims the unkeyed legacy hash outside the legacy stream"
        if _legacy_digest(event) != event.hash:
            return "content does not match its hash (the event was edited)"
        return None
    if event.seq != tip.count + 1:
        return f"is number {event.seq} in its stream where number {tip.count + 1} was due"
    key = keys.get(event.key_id)
    if key is None:
        return f"is signed with key {event.key_id!r}, which AUDIT_KEYS does not hold"
    if not hmac.compare_digest(_digest(event, key), event.hash):
        return "content does not match its keyed hash (the event was edited)"
    return None


def verify_chain(batch_size: int = 5000, external: dict | None = None
                 ) -> tuple[int, ChainBreak | None]:
    """Walk the log in id order, each event against its stream's chain and key; hold each
    stream's end against its head row and the heads as of the newest anchor (or `external`, an
    anchor record read back from outside the database) against its signature. Return (events
    checked, first break or None)."""
    keys = _keys()
    # Read before the walk: events appended meanwhile come after the heads' newest events.
    heads = {row.stream: row for row in db.session.execute(
        select(AuditStreamHead.stream, AuditStreamHead.event_count, AuditStreamHead.last_id,
               AuditStreamHead.last_hash))}
    anchor = _anchor_to_check(external)
    if isinstance(anchor, ChainBreak):
        return 0, anchor
    tips: dict[str, _Tip] = {}
    at_head: dict[str, tuple[int, str]] = {}  # stream -> (id, hash) of the head's newest event
    checked = last_id = 0
    keyed_seen = False
    anchor_done = anchor is None
    while True:
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                  .order_by(AuditEvent.id).limit(batch_size)).all()
        for event in rows:
            if not anchor_done and event.id > anchor.last_event_id:
                broken = _check_anchor(anchor, tips, keys)
                if broken:
                    return checked, broken
                anchor_done = True
            tip = tips.setdefault(event.stream, _Tip())
            reason = _check_event(event, tip, keys, keyed_seen)
            if reason:
                return checked, ChainBreak(event.id, reason, event.stream)
            tip.count, tip.last_id, tip.last_hash = tip.count + 1, event.id, event.hash
            keyed_seen = keyed_seen or event.key_id != LEGACY_KEY_ID
            checked += 1
            last_id = event.id
            head = heads.get(event.stream)
            if head is not None and tip.count == head.event_count:
                at_head[event.stream] = (event.id, event.hash)
        if not rows:
            break
        db.session.expunge_all()
    if not anchor_done:
        broken = _check_anchor(anchor, tips, keys)
        if broken:
            return checked, broken
    return checked, _check_heads(heads, tips, at_head)


def newest_anchor() -> AuditAnchor | None:
    return db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1)).first()


def _anchor_to_check(external: dict | None):
    if external is None:
        return newest_anchor()
    stored = db.session.get(AuditAnchor, external.get("anchor"))
    if stored is None or anchor_record(stored) != external:
        return ChainBreak(None, f"anchor {external.get('anchor')} exported outside the database "
                                f"is not the one the database holds (it was removed or rewritten)")
    return stored  # an older export is checked as it stands: the events it signed


def _check_anchor(anchor: AuditAnchor, tips: dict[str, _Tip], keys) -> ChainBreak | None:
    key = keys.get(anchor.key_id)
    where = f"anchor {anchor.id} of {as_aware(anchor.created_at):%Y-%m-%d %H:%M} UTC"
    if key is None:
        return ChainBreak(None, f"{where} is signed with key {anchor.key_id!r}, which "
                                f"AUDIT_KEYS does not hold")
    heads = [(s, t.count, t.last_hash) for s, t in tips.items() if t.count]
    if hmac.compare_digest(_sign_anchor(anchor, heads, key), anchor.signature):
        return None
    return ChainBreak(None, f"the log up to audit event {anchor.last_event_id} does not match "
                            f"{where} ({anchor.event_count} events in {anchor.stream_count} "
                            f"streams were signed; {sum(c for _, c, _ in heads)} in "
                            f"{len(heads)} are there): events were deleted, added or rewritten "
                            f"since it was signed")


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


def _check_heads(heads, tips: dict[str, _Tip], at_head) -> ChainBreak | None:
    """Each intact stream against the head row written by every append to it."""
    for stream in sorted(tips):
        if stream not in heads:
            return ChainBreak(None, f"stream {stream} has no head row (table audit_stream_head), "
                                    f"so a deletion of its newest events cannot be ruled out",
                              stream)
    for stream in sorted(heads):
        head, tip = heads[stream], tips.get(stream, _Tip())
        if tip.count < head.event_count:
            missing = head.event_count - tip.count
            what = "the newest event was" if missing == 1 else f"the newest {missing} events were"
            end = f"it ends at audit event {tip.last_id}" if tip.count else "it is empty"
            return ChainBreak(head.last_id, f"{what} deleted from stream {stream}: {end}, but "
                                            f"its head records {_events(head.event_count)} "
                                            f"ending at audit event {head.last_id}", stream)
        if head.event_count and at_head[stream][1] != head.last_hash:
            return ChainBreak(at_head[stream][0],
                              f"is event number {head.event_count} of stream {stream}, the "
                              f"newest its head records, but its hash is not the head's (the "
                              f"newest events were replaced or the head was reset)", stream)
    return None
