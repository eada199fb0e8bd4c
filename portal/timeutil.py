"""The portal's one clock: every "now" and "today" in the product comes from `utcnow()`.

In production it is the system clock. An operator can set it to another moment for a
rehearsal or a replay (`PORTAL_NOW=2027-01-31T23:50:00+08:00`, refused in production): the
clock then reads that moment at start-up and runs on from there at the normal pace, in every
process started with the same setting (web, CLI, job workers). Tests move it with
time-machine, which moves the system clock under this module, so they need no hook here.

Security protocols that compare times with another party (webhook signature tolerance, TOTP
codes) keep the system clock: the other party does not share our rehearsal.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

_offset = timedelta(0)


def utcnow() -> datetime:
    """An aware UTC datetime: the portal's "now"."""
    return datetime.now(timezone.utc) + _offset


def set_now(moment: datetime | str | None) -> None:
    """Make the clock read `moment` now and run on from there; None returns to the system clock.

    `moment` is an aware datetime or an ISO 8601 string with an offset (a naive one means UTC).
    """
    global _offset
    if moment is None or moment == "":
        _offset = timedelta(0)
        return
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    _offset = as_aware(moment) - datetime.now(timezone.utc)


def is_shifted() -> bool:
    """Whether an operator moved the clock away from the system's."""
    return _offset != timedelta(0)


def as_aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def to_utc(moment: datetime | str) -> datetime:
    """An aware UTC datetime from an aware datetime or ISO string (naive means UTC): the
    database compares stored moments as UTC wall times on SQLite."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
