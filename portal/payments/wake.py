"""Waking the webhook inbox's worker when the inbox stops being empty.

A webhook request that records the first due event (`webhooks.record_pending`: no other
event was due as its transaction saw it) while no worker is awake asks for a wake-up; after
its commit, the job engine's waker (`register_waker`, portal.tasks.engine: one
`portal.webhook_drain` task) starts the posting at once, instead of at beat's next poll.

A woken worker is *awake* while it holds the PostgreSQL advisory lock AWAKE (a session lock,
on a connection of its own: `awake`); it drains, and keeps looking a moment after the inbox
is empty (`inbox.drain_awake`). A request sees it awake when it cannot take the same lock
shared (`pg_try_advisory_xact_lock_shared`, only when the inbox was empty, held to its
commit); requests that find events waiting, or a worker awake, send nothing. So under a
steady stream one worker stays awake and no request publishes a task. A web process asks at
most every CHECK_EVERY seconds (`time_to_check`; the others only insert): the question scans
the pending events' partial index, whose entries for events just posted stay until vacuum,
so asking at every request cost more as the inbox's traffic grew. A wake-up lost in between
(a commit racing the worker's last look, a recording in a process that asked a moment
before, a broker that is down) waits for beat's poll, which stays the safety net. A
rolled-back transaction wakes no one. On SQLite (no advisory locks) a request wakes whenever
the inbox had nothing due.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import case, event, false, func, literal, select
from sqlalchemy.orm import Session

from portal.extensions import db

AWAKE = (7262005, 1)  # pg_advisory_lock space and key: a webhook inbox worker is awake
CHECK_EVERY = 0.05  # seconds between two questions of one web process (`time_to_check`)
_checked = [float("-inf")]  # when this process last asked
_WAKE = "webhook_inbox_wake"
_waker: list[Callable[[], None]] = []


def register_waker(wake: Callable[[], None] | None) -> None:
    """`wake()` runs after a commit that recorded an event into an empty inbox; it must not
    raise for a broker that is down (beat's poll then posts the event)."""
    _waker[:] = [wake] if wake else []


def time_to_check() -> bool:
    """Whether this process's recording should ask whether to wake a worker (the inbox
    empty, nobody awake): at most once every CHECK_EVERY seconds. In between, the worker
    draining, the wake-up sent or asked for a moment ago, or beat's poll posts the event."""
    now = time.monotonic()
    if now - _checked[0] < CHECK_EVERY:
        return False
    _checked[0] = now
    return True


def after_commit() -> None:
    """Wake the inbox's worker once this session's transaction has committed."""
    db.session.info[_WAKE] = True


def now() -> None:
    """Wake the inbox's worker now (the caller's transaction has committed)."""
    if _waker:
        _waker[0]()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session):
    if session.info.pop(_WAKE, None):
        now()


@event.listens_for(Session, "after_soft_rollback")
def _no_wake_after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the outermost transaction: nothing recorded
        session.info.pop(_WAKE, None)


def nobody_awake():
    """SQL boolean for a request's statement: true when no inbox worker is awake, i.e. the
    lock AWAKE could be taken shared (it is then held until the transaction ends, so a
    worker starting meanwhile waits for the commit, and sees the event)."""
    return func.pg_try_advisory_xact_lock_shared(literal(AWAKE[0]), literal(AWAKE[1]))


def when_empty(empty, then):
    """`then` evaluated only when `empty` holds (CASE keeps PostgreSQL from taking the lock
    for a request that finds events waiting)."""
    return case((empty, then), else_=false())


@contextmanager
def awake() -> Iterator[bool]:
    """Hold AWAKE while the block runs (True), on a connection of its own so the lock spans
    the drain's transactions; False when another worker is awake (or requests hold it
    shared for a moment: those wake a worker of their own). SQLite: always True."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as conn:
        got = bool(conn.scalar(select(func.pg_try_advisory_lock(*AWAKE))))
        conn.commit()  # the session lock stays; no transaction stays open
        try:
            yield got
        finally:
            if got:
                conn.scalar(select(func.pg_advisory_unlock(*AWAKE)))
                conn.commit()
