"""Quiet hours: the next moment a message may reach a cardholder, in their own time zone."""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.contact.rules import is_allowed, next_allowed, parse_contact

UTC = timezone.utc
DAY = (time(8, 0), time(21, 0))
SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"


def _local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz))


def test_inside_the_window_a_message_may_go_at_once():
    moment = _local(SHANGHAI, 2026, 11, 28, 12, 0)
    assert next_allowed(moment, SHANGHAI, *DAY) == moment.astimezone(UTC)


def test_after_nine_in_the_evening_waits_for_eight_the_next_morning():
    moment = _local(SHANGHAI, 2026, 11, 28, 21, 0)  # 21:00 itself is outside
    assert next_allowed(moment, SHANGHAI, *DAY) == _local(SHANGHAI, 2026, 11, 29, 8, 0)


def test_after_midnight_waits_for_eight_the_same_morning():
    moment = _local(SHANGHAI, 2026, 11, 29, 2, 30)
    assert next_allowed(moment, SHANGHAI, *DAY) == _local(SHANGHAI, 2026, 11, 29, 8, 0)


def test_eight_exactly_is_allowed_and_one_second_before_is_not():
    assert is_allowed(_local(SHANGHAI, 2026, 11, 29, 8, 0), SHANGHAI, *DAY)
    assert not is_allowed(_local(SHANGHAI, 2026, 11, 29, 7, 59, 59), SHANGHAI, *DAY)


def test_the_same_utc_moment_is_judged_in_each_cardholders_zone():
    moment = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 22:00 Shanghai, 09:00 New York
    assert next_allowed(moment, NEW_YORK, *DAY) == moment
    assert next_allowed(moment, SHANGHAI, *DAY) == _local(SHANGHAI, 2026, 11, 29, 8, 0)


def test_a_window_across_midnight_allows_late_evening_and_waits_in_the_gap():
    start, end = time(20, 0), time(2, 0)  # allowed 20:00-02:00
    assert is_allowed(_local(SHANGHAI, 2026, 11, 28, 23, 30), SHANGHAI, start, end)
    assert is_allowed(_local(SHANGHAI, 2026, 11, 29, 1, 30), SHANGHAI, start, end)
    assert next_allowed(_local(SHANGHAI, 2026, 11, 29, 2, 0), SHANGHAI, start, end) == \
        _local(SHANGHAI, 2026, 11, 29, 20, 0)


def test_spring_forward_in_new_york_gives_eight_daylight_time():
    # 8 March 2026: clocks jump from 02:00 EST to 03:00 EDT. 00:30 EST is 05:30 UTC.
    moment = datetime(2026, 3, 8, 5, 30, tzinfo=UTC)
    assert next_allowed(moment, NEW_YORK, *DAY) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_fall_back_in_new_york_gives_eight_standard_time():
    # 1 November 2026: clocks go back from 02:00 EDT to 01:00 EST. 23:30 EDT on 31 Oct.
    moment = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    assert next_allowed(moment, NEW_YORK, *DAY) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_a_window_start_inside_the_spring_gap_resolves_to_a_real_time():
    moment = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST
    found = next_allowed(moment, NEW_YORK, time(2, 30), time(21, 0))
    assert found == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, the first real time
    assert is_allowed(found, NEW_YORK, time(2, 30), time(21, 0))


def test_an_unknown_zone_is_judged_as_utc():
    moment = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert next_allowed(moment, "Mars/Olympus", *DAY) == datetime(2026, 11, 29, 8, 0,
                                                                   tzinfo=UTC)


def test_naive_moments_are_refused():
    with pytest.raises(ValueError):
        next_allowed(datetime(2026, 11, 28, 12, 0), SHANGHAI, *DAY)


def test_profile_sections_parse_with_defaults_and_caps():
    rules = parse_contact({"hours": {"start": "09:00", "end": "20:00"},
                           "caps": {"sms": {"max": 3, "period_days": 7}}, "verified": False})
    assert (rules.start, rules.end, rules.verified) == (time(9), time(20), False)
    assert rules.cap("sms").max_messages == 3 and rules.cap("email").max_messages == 7
    empty = parse_contact(None)
    assert (empty.start, empty.end) == DAY
