"""An event's hash is taken with a JSON encoder and an HMAC state set up once per key, not once
per event: the same hex digest as the formula written out (json.dumps with sorted keys, compact
separators and UTF-8 text, HMAC-SHA256 of it), for any event, else `audit verify` would accept
what this code writes and refuse what older code wrote."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit.services import _Draft, _anchor_blob, _digest, _normalise


def reference_digest(event, key: bytes) -> str:
    """_digest as it was before: a new encoder and a new HMAC for every event."""
    payload = {
        "prev": event.prev_hash,
        "at": event.created_at.astimezone(timezone.utc).isoformat(),
        "actor_type": event.actor_type, "actor_id": event.actor_id, "action": event.action,
        "subject_type": event.subject_type, "subject_id": event.subject_id,
        "before": event.before, "after": event.after, "ip": event.ip,
        "stream": event.stream, "seq": event.seq, "key": event.key_id,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                              max_size=5),
    max_leaves=20)
_text = st.none() | st.text(max_size=20)


@settings(max_examples=300, deadline=None)
@given(before=_json, after=_json, action=st.text(min_size=1, max_size=20), actor_id=_text,
       subject_id=_text, ip=_text, stream=st.text(min_size=1, max_size=64),
       seq=st.integers(1, 10 ** 9), prev=st.text(max_size=64),
       keys=st.lists(st.binary(min_size=16, max_size=64), min_size=1, max_size=3))
def test_digest_is_the_formula_written_out(before, after, action, actor_id, subject_id, ip,
                                           stream, seq, prev, keys):
    event = _Draft(created_at=datetime(2026, 12, 6, 21, 40, tzinfo=timezone.utc),
                   actor_type="system", actor_id=actor_id, action=action,
                   subject_type="account", subject_id=subject_id, before=_normalise(before),
                   after=_normalise(after), ip=ip, stream=stream, seq=seq, key_id="k1",
                   prev_hash=prev)
    for key in keys * 2:  # each key twice: the state kept for a key is not used up
        assert _digest(event, key) == reference_digest(event, key)


def test_a_feed_event_keeps_its_known_hash():
    # Computed with _digest as it was before this change (3f4e707): a feed import's event.
    event = _Draft(created_at=datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc),
                   actor_type="system", actor_id="import", action="account.feed_created",
                   subject_type="account", subject_id="7", before=None,
                   after={"card_last4": "1234", "cardholder": "C00000003", "currency": "CNY",
                          "ledger": {"fee": 5000, "principal": 800025}, "feed_as_of": "2026-11-28",
                          "full_name": "李雷"},
                   ip=None, stream="account:7", seq=1, key_id="k1", prev_hash="0" * 64)
    assert _digest(event, b"k" * 32) == reference_digest(event, b"k" * 32)
    assert _digest(event, b"k" * 32) == (
        "a2451ebaacd86fc730721b725ba24a2bc1024b11a4e11c3f37c2245670c357d1")


def test_anchor_blob_is_compact_sorted_utf8():
    class Anchor:
        created_at = datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)
        last_event_id, key_id = 9, "k1"
    assert _anchor_blob(Anchor, [("account:1", 2, "ab"), ("帐户", 1, "cd")]) == (
        '{"at":"2026-12-06T21:00:00+00:00","heads":[["account:1",2,"ab"],["帐户",1,"cd"]],'
        '"key":"k1","last_event_id":9}').encode("utf-8")

