"""The tests' one clock: every test starts at BASE, whatever the day the suite runs.

The `clock` fixture (autouse, in tests/conftest.py) moves the system clock under the whole
process with time-machine: `datetime.now`, `date.today` and `time.time` all read the test's
moment, so the portal's own clock (`portal.timeutil.utcnow`) follows without a hook. It ticks
from BASE at the normal pace (loops that wait for a server keep working); a test that needs a
precise moment calls `clock.move_to(...)`, which stops it there until the next move.

Dates in tests are stated against BASE (TODAY is its date), so nothing depends on the calendar.
Browser tests are the exception: Chromium keeps the real clock, and would drop a session
cookie whose expiry Flask computed from a clock in the past. There `ProductClock` moves only the
portal's clock (`portal.timeutil.set_now`), which every product decision reads, to the same BASE.
"""
from __future__ import annotations

import os
import subprocess
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import time_machine

from portal import timeutil

# 09:00 in Shanghai and 20:00 (27 November) in New York: daytime for contact rules in both.
BASE = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
TODAY = BASE.date()


def _as_moment(moment: datetime | date | str) -> datetime:
    """An aware datetime from an aware datetime, an ISO string or a date (01:00 UTC that day)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, BASE.timetz())
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Clock:
    """What a test may do with time: read it, stop it at a moment, move it on."""

    def __init__(self, destination: datetime | None, tick: bool = True):
        self._travel = time_machine.travel(destination, tick=tick) if destination else None
        self._traveller = self._travel.start() if self._travel else None
        self._on_move: list = []

    def on_move(self, before, after) -> None:
        """Call `before()` just before every move and `after(what_before_returned)` just after
        (login_as keeps its sessions signed in across moves this way)."""
        self._on_move.append((before, after))

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        """The UTC date now (a cardholder's own date: `portal.balances.services.today_for`)."""
        return self.now().date()

    def move_to(self, moment: datetime | date | str, tick: bool = False) -> datetime:
        """Stop the clock at `moment` (aware datetime, ISO string; a date means 01:00 UTC)."""
        moment = _as_moment(moment)
        with self._moving():
            self._require_travel().move_to(moment, tick=tick)
        return moment

    def shift(self, delta: timedelta | float) -> None:
        """Move the clock on by `delta` (a timedelta or seconds)."""
        with self._moving():
            self._require_travel().shift(delta)

    @contextmanager
    def _moving(self):
        kept = [(after, before()) for before, after in self._on_move]
        yield
        for after, value in kept:
            after(value)

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = self._traveller = None

    def _require_travel(self):
        return self._traveller


class ProductClock(Clock):
    """Moves the portal's clock only (the framework, the browser and the peers keep theirs)."""

    def __init__(self, destination: datetime):
        super().__init__(None)
        timeutil.set_now(destination)

    def move_to(self, moment, tick: bool = True) -> datetime:
        moment = _as_moment(moment)
        timeutil.set_now(moment)  # it runs on from there: the browser keeps real time
        return moment

    def shift(self, delta: timedelta | float) -> None:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        timeutil.set_now(timeutil.utcnow() + delta)

    @staticmethod
    def now() -> datetime:
        return timeutil.utcnow()

    def stop(self) -> None:
        timeutil.set_now(None)


# libfaketime's variables: a child process started by a test runs on the test's moment
# (PORTAL_NOW) instead of under libfaketime.
_FAKETIME_VARIABLES = ("LD_PRELOAD", "FAKETIME", "DONT_FAKE_MONOTONIC", "FAKETIME_NO_CACHE")


def child_environ(base: dict | None = None, **overrides) -> dict:
    """The environment for a process a test starts: the portal's clock at the test's moment."""
    environ = {k: v for k, v in (os.environ if base is None else base).items()
               if k not in _FAKETIME_VARIABLES}
    environ["PORTAL_NOW"] = datetime.now(timezone.utc).isoformat()
    environ.update(overrides)
    return environ


def run_child(args: list[str], *, env: dict, timeout: float = 120, **kwargs):
    """`subprocess.run(args, capture_output=True, text=True)` that never sleeps: a timer kills
    a child still running after `timeout` seconds. (subprocess's own timed wait polls with
    time.sleep, which libfaketime breaks in the run at a later date; a timer's wait is fine.)"""
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kwargs) as proc:
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            out, err = proc.communicate()
        finally:
            killer.cancel()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)
