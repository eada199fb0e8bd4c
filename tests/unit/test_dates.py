from datetime import date, datetime, timezone

import pytest

from portal.domain.dates import add_months, days_past_due, local_date


def test_add_months_clamps_to_short_months_and_returns_to_anchor():
    jan31 = date(2026, 1, 31)
    assert add_months(jan31, 1) == date(2026, 2, 28)
    assert add_months(jan31, 2) == date(2026, 3, 31)
    assert add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)
    assert add_months(date(2026, 4, 30), 0, anchor_day=31) == date(2026, 4, 30)


def test_add_months_lands_on_leap_day_in_leap_years():
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2028, 2, 29), 48) == date(2032, 2, 29)


def test_add_months_crosses_year_boundaries_both_ways():
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_add_months_rejects_impossible_anchor():
    with pytest.raises(ValueError):
        add_months(date(2026, 1, 1), 1, anchor_day=32)


def test_utc_afternoon_is_next_day_in_shanghai_and_same_day_in_new_york():
    moment = datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    assert local_date(moment, "Asia/Shanghai") == date(2026, 3, 2)
    assert local_date(moment, "America/New_York") == date(2026, 3, 1)


def test_late_evening_payment_counts_for_that_shanghai_day():
    # 23:30 in Shanghai is 15:30 UTC the same day
    moment = datetime(2026, 5, 10, 15, 30, tzinfo=timezone.utc)
    assert local_date(moment, "Asia/Shanghai") == date(2026, 5, 10)


def test_local_date_refuses_naive_datetimes_and_unknown_zones():
    with pytest.raises(ValueError):
        local_date(datetime(2026, 3, 1, 16, 0), "Asia/Shanghai")
    with pytest.raises(ValueError):
        local_date(datetime(2026, 3, 1, tzinfo=timezone.utc), "Mars/Olympus_Mons")


def test_due_date_itself_is_zero_days_past_due_and_next_day_is_one():
    due = date(2026, 3, 15)
    assert days_past_due(due, date(2026, 3, 14)) == 0
    assert days_past_due(due, due) == 0
    assert days_past_due(due, date(2026, 3, 16)) == 1


def test_nothing_unpaid_is_zero_days_past_due():
    assert days_past_due(None, date(2026, 3, 16)) == 0


def test_days_past_due_counts_across_month_ends():
    assert days_past_due(date(2026, 1, 31), date(2026, 3, 1)) == 29
    assert days_past_due(date(2026, 12, 31), date(2027, 1, 1)) == 1


def test_days_past_due_counts_the_leap_day():
    assert days_past_due(date(2028, 2, 28), date(2028, 3, 1)) == 2
    assert days_past_due(date(2028, 2, 29), date(2028, 3, 1)) == 1
    assert days_past_due(date(2027, 2, 28), date(2027, 3, 1)) == 1


def test_days_past_due_refuses_datetimes():
    with pytest.raises(TypeError):
        days_past_due(date(2026, 3, 1), datetime(2026, 3, 5, tzinfo=timezone.utc))
