"""The WSGI app of bench/audit.py's web processes (`gunicorn --pythonpath bench audit_app:app`).

With BENCH_AUDIT=unchained (the bench's floor, never in production) every audit event is
appended without its chain: no stream head is locked, read or rewritten, and no event links
to another; each event is still built, HMAC-signed (over its content and a nonce, so hashes
stay unique) and inserted. The difference to the portal as designed is the chaining alone.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import sys
import uuid

from portal import create_app
from portal.audit import services
from portal.audit.models import AuditEvent
from portal.extensions import db

app = create_app()


def unchained_record_many(events: list[dict]) -> list[AuditEvent]:
    """`record_many` less the chain: the floor the bench compares the portal with."""
    key_id, key = services._signing_key()
    made = services.build_events(events, key_id)
    for event in made:
        event.seq, event.prev_hash = None, services.GENESIS
        blob = services._blob(services._payload(event) | {"nonce": uuid.uuid4().hex})
        event.hash = hmac.new(key, blob, hashlib.sha256).hexdigest()
        db.session.add(event)
    db.session.flush()
    return made


def _unchain() -> None:
    """Every module that imported `record_many` gets the floor (`record` calls it too)."""
    original = services.record_many
    for module in list(sys.modules.values()):
        if getattr(module, "record_many", None) is original:
            module.record_many = unchained_record_many


if os.environ.get("BENCH_AUDIT") == "unchained":
    if os.environ.get("PORTAL_ENV") == "production":
        raise RuntimeError("BENCH_AUDIT=unchained is for bench/audit.py, never production")
    _unchain()
