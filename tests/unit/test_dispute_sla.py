"""SLA deadlines over business hours, weekends and public holidays, in both profiles."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.disputes.rules import (add_business_days, add_business_hours, add_business_time,
                                   business_time_between, calendar_for, extend_for_pause,
                                   sla_deadlines, time_left)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
CN = calendar_for("cn")
US = calendar_for("us")


def at(zone, *parts):
    return datetime(*parts, tzinfo=zone)


def test_cn_hours_left_on_friday_carry_over_the_weekend_to_monday():
    assert add_business_hours(CN, at(SH, 2026, 11, 27, 16), 4) == at(SH, 2026, 11, 30, 11)


def test_cn_start_given_in_utc_is_read_in_shanghai_time():
    start = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)  # 16:00 in Shanghai
    assert add_business_hours(CN, start, 4) == at(SH, 2026, 11, 30, 11)


def test_cn_national_day_week_is_skipped():
    # 1 hour on 30 Sep, then holidays 1-7 Oct (with the weekend), 3 hours on Thursday 8 Oct
    assert add_business_hours(CN, at(SH, 2026, 9, 30, 17), 4) == at(SH, 2026, 10, 8, 12)


def test_cn_makeup_saturday_is_a_working_day():
    assert add_business_hours(CN, at(SH, 2026, 10, 9, 17), 2) == at(SH, 2026, 10, 10, 10)


def test_cn_dispute_raised_before_opening_starts_counting_at_nine():
    assert add_business_hours(CN, at(SH, 2026, 11, 30, 7), 1) == at(SH, 2026, 11, 30, 10)


def test_cn_dispute_raised_on_sunday_night_starts_monday_morning():
    assert add_business_hours(CN, at(SH, 2026, 11, 29, 23), 9) == at(SH, 2026, 11, 30, 18)


def test_us_thanksgiving_is_skipped():
    assert add_business_hours(US, at(NY, 2026, 11, 25, 15), 4) == at(NY, 2026, 11, 27, 11)


def test_us_hours_cross_the_end_of_daylight_saving_time():
    due = add_business_hours(US, at(NY, 2026, 10, 30, 16), 2)
    assert due == at(NY, 2026, 11, 2, 10)
    assert due.astimezone(timezone.utc) == datetime(2026, 11, 2, 15, tzinfo=timezone.utc)


def test_us_office_closes_at_five_not_six():
    assert add_business_hours(US, at(NY, 2026, 12, 1, 16), 2) == at(NY, 2026, 12, 2, 10)


def test_cn_resolve_days_end_at_closing_on_the_nth_business_day():
    assert add_business_days(CN, at(SH, 2026, 11, 27, 10), 5) == at(SH, 2026, 12, 4, 18)


def test_us_resolve_days_skip_christmas_and_the_weekend():
    assert add_business_days(US, at(NY, 2026, 12, 23, 10), 3) == at(NY, 2026, 12, 29, 17)


def test_cn_resolve_days_skip_spring_festival():
    # 13 Feb 2026 (Fri): 14 Feb is a make-up Saturday, then 16-20 Feb are holidays
    assert add_business_days(CN, at(SH, 2026, 2, 13, 10), 2) == at(SH, 2026, 2, 23, 18)


def test_sla_deadlines_follow_the_category_and_profile():
    raised = at(SH, 2026, 11, 27, 16)
    cn = sla_deadlines("cn", "not_my_debt", raised)
    assert cn.acknowledge_by == at(SH, 2026, 11, 30, 11)
    us = sla_deadlines("us", "not_my_debt", raised.astimezone(NY))  # 03:00 in New York
    assert us.acknowledge_by == at(NY, 2026, 11, 27, 17)
    assert us.resolve_by > cn.resolve_by


def test_unknown_profile_uses_the_default_calendar():
    assert calendar_for("zz") == CN


def test_time_left_is_negative_when_overdue():
    due = at(SH, 2026, 11, 30, 11)
    assert time_left(due, at(SH, 2026, 11, 30, 12)).total_seconds() == -3600


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_hours(CN, datetime(2026, 11, 27, 16), 1)


# --- the clock pauses while the dispute waits for the cardholder ----------------------------

def test_open_office_time_between_two_moments_skips_nights_and_weekends():
    # Friday 16:00 to Monday 11:00 in Shanghai: 2 hours Friday, 2 hours Monday
    span = business_time_between(CN, at(SH, 2026, 11, 27, 16), at(SH, 2026, 11, 30, 11))
    assert span == timedelta(hours=4)


def test_no_open_office_time_when_the_end_is_not_after_the_start():
    moment = at(SH, 2026, 11, 27, 16)
    assert business_time_between(CN, moment, moment) == timedelta()
    assert business_time_between(CN, moment, at(SH, 2026, 11, 27, 10)) == timedelta()


def test_a_pause_over_a_weekend_only_moves_the_deadline_by_office_hours():
    due = at(SH, 2026, 12, 4, 18)  # closing time, Friday 4 December
    # waiting from Friday 27 Nov 17:00 to Monday 30 Nov 10:00: 1 + 1 office hours
    moved = extend_for_pause(CN, due, at(SH, 2026, 11, 27, 17), at(SH, 2026, 11, 30, 10))
    assert moved == at(SH, 2026, 12, 7, 11)  # the next business day, 2 office hours in


def test_a_pause_entirely_out_of_hours_leaves_the_deadline_alone():
    due = at(SH, 2026, 12, 4, 18)
    assert extend_for_pause(CN, due, at(SH, 2026, 11, 28, 10), at(SH, 2026, 11, 29, 20)) == due


def test_a_pause_over_us_thanksgiving_counts_only_open_days():
    due = at(NY, 2026, 12, 10, 17)
    # Wednesday 25 Nov 09:00 to Monday 30 Nov 09:00: Wed 8 h, Thu holiday, Fri 8 h
    moved = extend_for_pause(US, due, at(NY, 2026, 11, 25, 9), at(NY, 2026, 11, 30, 9))
    assert moved == at(NY, 2026, 12, 14, 17)  # two business days later (Fri 11, Mon 14)


def test_adding_no_business_time_keeps_a_closing_time_deadline():
    due = at(NY, 2026, 12, 10, 17)
    assert add_business_time(US, due, timedelta()) == due
