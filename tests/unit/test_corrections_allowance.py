"""What a correction lets the nightly run's charges keep (`portal.jobs.corrections._Allowance`):
fees day by day; interest up to what the replay accrued up to each day, never on a day the
replay charges none, and nothing carried past such a day."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, strategies as st

from portal.jobs.corrections import _Allowance

D = date(2026, 11, 3)


def day(n: int) -> date:
    return D + timedelta(days=n)


def test_interest_out_of_phase_keeps_what_the_replay_accrued_in_all():
    # 335.5 a day: the run posted 336, 335, 336, 335; the replay 335, 336, 335, 336
    replayed = {(day(i), "interest"): amount for i, amount in enumerate([335, 336, 335, 336])}
    allowance = _Allowance(replayed)
    kept = [allowance.keep(day(i), "interest", amount)
            for i, amount in enumerate([336, 335, 336, 335])]
    assert kept == [335, 335, 336, 335]  # 1,341 of 1,342: one unit back, not two


def test_a_day_the_replay_charges_no_interest_keeps_none_and_clears_what_was_spare():
    replayed = {(day(0), "interest"): 300, (day(1), "interest"): 0, (day(2), "interest"): 10}
    allowance = _Allowance(replayed)
    assert allowance.keep(day(0), "interest", 100) == 100  # 200 spare
    assert allowance.keep(day(1), "interest", 300) == 0  # paid that day: nothing kept
    assert allowance.keep(day(2), "interest", 300) == 10  # the 200 did not pass day 1


def test_a_gap_in_the_replays_days_clears_what_was_spare():
    allowance = _Allowance({(day(0), "interest"): 300, (day(2), "interest"): 10})
    assert allowance.keep(day(0), "interest", 100) == 100
    assert allowance.keep(day(1), "interest", 50) == 0
    assert allowance.keep(day(2), "interest", 300) == 10


def test_fees_are_allowed_day_by_day():
    allowance = _Allowance({(day(0), "fee"): 1000, (day(1), "interest"): 5})
    assert allowance.keep(day(0), "fee", 1000) == 1000
    assert allowance.keep(day(0), "fee", 1000) == 0  # one fee that day, not two
    assert allowance.keep(day(1), "fee", 1000) == 0


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=30))
def test_interest_kept_never_passes_what_the_replay_accrued_by_any_day(days):
    replayed = {(day(i), "interest"): accrued for i, (accrued, _) in enumerate(days)}
    allowance = _Allowance(replayed)
    kept_total = accrued_total = 0
    for i, (accrued, charged) in enumerate(days):
        kept = allowance.keep(day(i), "interest", charged)
        assert 0 <= kept <= charged
        if accrued == 0:
            assert kept == 0
            accrued_total = kept_total = 0  # a paid day: the sums start again after it
            continue
        kept_total += kept
        accrued_total += accrued
        assert kept_total <= accrued_total
