"""The portal's one clock: the system clock, or a rehearsal moment that runs on from there."""
from datetime import datetime, timedelta, timezone

import pytest

from portal import timeutil


@pytest.fixture(autouse=True)
def system_clock_again():
    yield
    timeutil.set_now(None)


def test_the_clock_is_the_system_clock_by_default(clock):
    clock.move_to("2027-03-01T12:00:00+00:00")
    assert timeutil.utcnow() == datetime(2027, 3, 1, 12, tzinfo=timezone.utc)
    assert not timeutil.is_shifted()


def test_a_rehearsal_moment_is_read_now_and_runs_on_from_there(clock):
    clock.move_to("2027-03-01T12:00:00+00:00")
    timeutil.set_now("2027-06-30T23:50:00+08:00")
    assert timeutil.utcnow() == datetime(2027, 6, 30, 15, 50, tzinfo=timezone.utc)
    clock.shift(timedelta(minutes=20))  # twenty minutes of real time later: past local midnight
    assert timeutil.utcnow() == datetime(2027, 6, 30, 16, 10, tzinfo=timezone.utc)
    assert timeutil.is_shifted()


def test_a_naive_rehearsal_moment_means_utc(clock):
    clock.move_to("2027-03-01T12:00:00+00:00")
    timeutil.set_now("2027-06-30T08:00:00")
    assert timeutil.utcnow() == datetime(2027, 6, 30, 8, tzinfo=timezone.utc)


def test_an_unreadable_moment_is_refused_and_changes_nothing(clock):
    clock.move_to("2027-03-01T12:00:00+00:00")
    with pytest.raises(ValueError):
        timeutil.set_now("next tuesday")
    assert timeutil.utcnow() == datetime(2027, 3, 1, 12, tzinfo=timezone.utc)
