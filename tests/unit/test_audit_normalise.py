"""Audit values are normalised without a JSON round trip, to exactly what the round trip gives
(the hash covers the normalised value, so any difference would break `audit verify`)."""
from __future__ import annotations

import enum
import json
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, strategies as st

from portal.audit.services import _normalise


class Kind(enum.StrEnum):
    PAYMENT = "payment"


class Level(enum.IntEnum):
    HIGH = 3


def _round_trip(value):
    return json.loads(json.dumps(value, default=str, sort_keys=True))


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False),
    st.dates(), st.datetimes(timezones=st.just(timezone.utc)), st.just(Kind.PAYMENT),
    st.just(Level.HIGH))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=4)),
    max_leaves=12)


@given(_values)
def test_normalised_value_is_what_the_json_round_trip_gives(value):
    try:
        expected = _round_trip(value)
    except TypeError:  # keys of mixed types cannot be sorted: refused either way
        with pytest.raises(TypeError):
            _normalise(value)
        return
    got = _normalise(value)
    assert got == expected
    # The same text when hashed or stored: key order and types included.
    assert json.dumps(got) == json.dumps(expected)


def test_a_feed_event_normalises_dates_and_keeps_key_order_sorted():
    after = {"ledger": {"principal": 820050}, "as_of": date(2026, 11, 28), "cardholder": "C1",
             "at": datetime(2026, 11, 28, 1, tzinfo=timezone.utc)}
    assert list(_normalise(after)) == ["as_of", "at", "cardholder", "ledger"]
    assert _normalise(after)["as_of"] == "2026-11-28"
