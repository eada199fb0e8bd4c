"""Wilson and difference intervals against published values, and their properties."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.stats import difference_interval, proportion, wilson_interval


@pytest.mark.parametrize("k, n, low, high", [
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson, no
    # continuity correction): 81/263, 15/148, 0/20, 1/29.
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_newcombes_table(k, n, low, high):
    est = wilson_interval(k, n)
    assert est.value == pytest.approx(k / n)
    assert est.low == pytest.approx(low, abs=5e-5)
    assert est.high == pytest.approx(high, abs=5e-5)


def test_difference_interval_matches_the_textbook_formula():
    # 56/70 against 48/80 (Newcombe 1998, table II example (a)): Wald 0.0575 to 0.3425
    est = difference_interval(48, 80, 56, 70)
    assert est.value == pytest.approx(0.2)
    assert est.low == pytest.approx(0.0575, abs=5e-4)
    assert est.high == pytest.approx(0.3425, abs=5e-4)


def test_nothing_to_estimate_without_cases():
    assert wilson_interval(0, 0).value is None
    assert difference_interval(0, 0, 1, 2).low is None
    assert proportion(0, 0) is None


@pytest.mark.parametrize("k, n", [(-1, 3), (4, 3), (0, -1)])
def test_a_count_that_is_not_a_proportion_is_refused(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)


counts = st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=300)
@given(counts)
def test_wilson_interval_holds_the_proportion_inside_zero_and_one(kn):
    k, n = kn
    est = wilson_interval(k, n)
    assert 0.0 <= est.low <= est.value <= est.high <= 1.0


@settings(max_examples=300)
@given(counts)
def test_wilson_interval_is_symmetric_under_swapping_successes_and_failures(kn):
    k, n = kn
    one, other = wilson_interval(k, n), wilson_interval(n - k, n)
    assert one.low == pytest.approx(1 - other.high, abs=1e-12)
    assert one.high == pytest.approx(1 - other.low, abs=1e-12)


@settings(max_examples=200)
@given(counts, counts)
def test_difference_interval_contains_the_difference_and_is_antisymmetric(a, b):
    est, back = difference_interval(*a, *b), difference_interval(*b, *a)
    assert -1.0 <= est.low <= est.value <= est.high <= 1.0
    assert est.value == pytest.approx(-back.value)
