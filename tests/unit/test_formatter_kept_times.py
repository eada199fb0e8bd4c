"""Formatter.moment keeps each minute's time of day and Formatter.delta each time left's text per
process (issue 15): a text from a formatter that has formatted many others reads exactly as
one formatted afresh."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_timedelta, parse_pattern
from hypothesis import given, settings, strategies as st

from portal.core.filters import Formatter, _by_minute

LOCALES = [Locale.parse(code) for code in ("en", "zh_Hans", "de", "ar", "fa")]
ZONES = [ZoneInfo(name) for name in ("UTC", "Asia/Shanghai", "America/New_York",
                                     "Asia/Kolkata", "Australia/Lord_Howe")]
KEPT = {(str(locale), str(zone)): Formatter(locale, zone) for locale in LOCALES for zone in ZONES}
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(timezone.utc))


@settings(max_examples=300, deadline=None)
@given(st.lists(moments, min_size=1, max_size=20), st.sampled_from(LOCALES),
       st.sampled_from(ZONES))
def test_a_kept_formatter_writes_every_moment_as_a_fresh_one(values, locale, zone):
    kept = KEPT[(str(locale), str(zone))]
    for value in values:
        # the same minute, other seconds and days: what the kept texts are keyed by
        for moment in (value, value + timedelta(seconds=37), value + timedelta(days=3)):
            assert kept.moment(moment) == Formatter(locale, zone).moment(moment)


def test_only_hour_and_minute_patterns_are_kept_by_minute():
    assert _by_minute(parse_pattern("h:mm a")) and _by_minute(parse_pattern("HH:mm"))
    assert _by_minute(parse_pattern("h 'o''clock' a"))
    assert not _by_minute(parse_pattern("HH:mm:ss")) and not _by_minute(parse_pattern("h:mm a z"))


deltas = st.timedeltas(min_value=timedelta(days=-4000), max_value=timedelta(days=4000))
small = st.integers(min_value=-200_000, max_value=200_000).map(lambda s: timedelta(seconds=s))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(deltas, small), min_size=1, max_size=30), st.sampled_from(LOCALES))
def test_a_kept_formatter_writes_every_time_left_as_babel_does(values, locale):
    kept = KEPT[(str(locale), "UTC")]
    for value in values:
        for near in (value, value + timedelta(seconds=1), -value, value // 7):
            assert kept.delta(near) == format_timedelta(near, add_direction=True, threshold=1.1,
                                                        locale=locale)
