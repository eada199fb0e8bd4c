from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.schedule import (
    Frequency,
    Instalment,
    build_schedule,
    count_for_amount,
    due_dates,
)

FIRST_DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))


def test_monthly_due_dates_clamp_to_short_months():
    assert due_dates(date(2026, 1, 31), 4, Frequency.MONTHLY) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_monthly_due_dates_use_leap_day():
    assert due_dates(date(2028, 1, 30), 3, Frequency.MONTHLY) == [
        date(2028, 1, 30),
        date(2028, 2, 29),
        date(2028, 3, 30),
    ]


def test_weekly_and_fortnightly_due_dates_step_by_days():
    first = date(2026, 2, 25)
    assert due_dates(first, 3, Frequency.WEEKLY) == [first, date(2026, 3, 4), date(2026, 3, 11)]
    assert due_dates(first, 2, Frequency.FORTNIGHTLY) == [first, date(2026, 3, 11)]


def test_frequency_accepts_its_stored_string_value():
    assert due_dates(date(2026, 1, 1), 2, "weekly") == [date(2026, 1, 1), date(2026, 1, 8)]


def test_remainder_goes_on_last_instalment():
    # 10,001 / 3 = 3,333 remainder 2: the last instalment carries the 2
    schedule = build_schedule(10_001, 3, Frequency.MONTHLY, date(2026, 1, 31))
    assert schedule == [
        Instalment(1, date(2026, 1, 31), 3333),
        Instalment(2, date(2026, 2, 28), 3333),
        Instalment(3, date(2026, 3, 31), 3335),
    ]
    assert [i.amount for i in build_schedule(10_000, 3, Frequency.WEEKLY, date(2026, 1, 1))] == [
        3333,
        3333,
        3334,
    ]


def test_down_payment_is_first_instalment_and_rest_is_split_over_following_dates():
    schedule = build_schedule(10_000, 4, Frequency.MONTHLY, date(2026, 1, 15), down_payment=2_500)
    assert schedule == [
        Instalment(1, date(2026, 1, 15), 2500),
        Instalment(2, date(2026, 2, 15), 2500),
        Instalment(3, date(2026, 3, 15), 2500),
        Instalment(4, date(2026, 4, 15), 2500),
    ]
    amounts = [i.amount for i in build_schedule(10_000, 3, Frequency.WEEKLY, date(2026, 1, 1), down_payment=1)]
    assert amounts == [1, 4999, 5000]


def test_single_instalment_is_the_whole_total():
    assert build_schedule(777, 1, Frequency.MONTHLY, date(2026, 5, 1)) == [
        Instalment(1, date(2026, 5, 1), 777)
    ]
    assert build_schedule(777, 1, Frequency.MONTHLY, date(2026, 5, 1), down_payment=777)[0].amount == 777


@pytest.mark.parametrize(
    ("total", "count", "down_payment"),
    [
        (1000, 0, 0),  # no instalments
        (0, 3, 0),  # nothing to pay
        (-5, 3, 0),
        (1000, 3, 1000),  # down payment leaves nothing for later instalments
        (1000, 3, 1500),
        (1000, 3, -1),
        (1000, 1, 500),  # single instalment must be the whole total
        (2, 3, 0),  # would need a zero instalment
        (1000, 5, 997),  # 3 left for 4 instalments
    ],
)
def test_impossible_schedules_are_refused(total, count, down_payment):
    with pytest.raises(ValueError):
        build_schedule(total, count, Frequency.MONTHLY, date(2026, 1, 1), down_payment=down_payment)


def test_count_for_amount_rounds_up():
    assert count_for_amount(10_000, 2_500) == 4
    assert count_for_amount(10_001, 2_500) == 5
    assert count_for_amount(100, 1_000) == 1
    with pytest.raises(ValueError):
        count_for_amount(100, 0)


def test_equal_split_can_put_last_instalment_above_requested_amount():
    # Documented caveat: "3 a period" on 10 gives 4 instalments 2, 2, 2, 4.
    count = count_for_amount(10, 3)
    amounts = [i.amount for i in build_schedule(10, count, Frequency.WEEKLY, date(2026, 1, 1))]
    assert amounts == [2, 2, 2, 4]


@st.composite
def schedules(draw):
    count = draw(st.integers(min_value=1, max_value=60))
    total = draw(st.integers(min_value=count, max_value=10**12))
    down = 0
    if count > 1 and draw(st.booleans()):
        down = draw(st.integers(min_value=1, max_value=total - (count - 1)))
    frequency = draw(st.sampled_from(list(Frequency)))
    first = draw(FIRST_DATES)
    return total, count, frequency, first, down


@given(schedules())
@settings(deadline=None, database=None)
def test_schedule_always_sums_exactly_to_total_with_positive_instalments(args):
    total, count, frequency, first, down = args
    schedule = build_schedule(total, count, frequency, first, down_payment=down)
    assert sum(i.amount for i in schedule) == total
    assert len(schedule) == count
    assert [i.seq for i in schedule] == list(range(1, count + 1))
    assert all(i.amount > 0 for i in schedule)
    assert [i.due_date for i in schedule] == due_dates(first, count, frequency)


@given(schedules())
@settings(deadline=None, database=None)
def test_last_instalment_absorbs_the_remainder(args):
    total, count, frequency, first, down = args
    schedule = build_schedule(total, count, frequency, first, down_payment=down)
    split = schedule[1:] if down else schedule
    if not split:
        return
    regular = {i.amount for i in split[:-1]}
    assert len(regular) <= 1
    base = (total - down) // len(split)
    assert split[-1].amount == base + (total - down) % len(split)
    assert all(i.amount == base for i in split[:-1])


@given(FIRST_DATES, st.integers(min_value=1, max_value=120))
@settings(deadline=None, database=None)
def test_monthly_dates_strictly_increase_and_keep_the_day(first, count):
    dates = due_dates(first, count, Frequency.MONTHLY)
    assert all(a < b for a, b in zip(dates, dates[1:]))
    assert all(d.day == first.day or (d + timedelta(days=1)).day == 1 for d in dates)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=10**9))
@settings(deadline=None, database=None)
def test_count_for_amount_is_the_fewest_periods_that_cover_the_total(total, per):
    count = count_for_amount(total, per)
    assert count * per >= total
    assert (count - 1) * per < total
