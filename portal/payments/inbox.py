"""The webhook inbox's worker: posts the events the webhook request recorded, in batches.

With the inbox on (`webhooks.inbox_on`), the request only verifies an event and records it
`pending` with its body (`webhooks.record_pending`). `drain` (`drain_awake`: the
`portal.webhook_drain` task a request sends when it records into an empty inbox,
`portal.payments.wake`; beat's `portal.webhook_poll`, the safety net; or `flask payments
webhooks --drain`) then:

- claims up to WEBHOOK_BATCH pending events in id order (arrival order) with
  `FOR UPDATE SKIP LOCKED`, so two workers never take the same event;
- locks, in one statement, the payments of the batch's success events (the first event to
  name each) with their accounts, in account then payment id order
  (`fast_posting.lock_batch`: one round trip a batch instead of one an event);
- posts the success events the fast path would post set-based, a few statements for the
  whole batch (`batch_posting.post_fast`: one read and one write a round, round k holding
  the k-th such event of each account), with the fast path's own pricing functions;
- applies every other event with `webhooks.apply_recorded`, in arrival order: the handlers
  and the fast posting the request would have run, so the money rules have one code path;
  the session is flushed and expired between events, so each sees the database as a
  request of its own would. An account's successes that arrive after such an event (one
  that may change the account) are applied here too, after it, never set-based;
- marks them `done` in the same transaction as their effects and commits once: a worker
  killed mid-batch leaves its events pending, to be claimed again.

If anything in a batch fails, the batch is rolled back and its events are applied one a
transaction; one that fails again keeps its error and attempts and waits (a minute, doubling,
at most an hour) before its next try; after WEBHOOK_MAX_ATTEMPTS it is `failed` and waits for
a person (docs/operations.md, "Webhook inbox"). The others are posted meanwhile.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, func, null, select, update

from portal.extensions import db
from portal.payments import wake
from portal.payments.batch_posting import post_fast
from portal.payments.fast_posting import lock_batch
from portal.payments.models import WebhookEvent
from portal.payments.webhooks import apply_recorded
from portal.timeutil import as_aware, utcnow

log = logging.getLogger(__name__)

_T = WebhookEvent.__table__
PENDING, DONE, FAILED = "pending", "done", "failed"
LINGER = 0.25  # seconds a woken worker keeps looking after the inbox is empty
GATHER = 0.05  # seconds between its looks: what arrives meanwhile is posted as one batch
MOST_AWAKE = 30.0  # seconds a wake-up keeps its worker at most (other tasks wait behind it)
IDLE_WITHIN = 1.0  # seconds a woken worker's postings wait at most for their receipts' round


def _due(now):
    """A pending event whose retry time, if any, has come: what a worker may claim now."""
    return (_T.c.state == PENDING) & ((_T.c.retry_at.is_(None)) | (_T.c.retry_at <= now))


def _claim(now, limit: int, event_id: int | None = None):
    query = (select(_T.c.id, _T.c.payload, _T.c.attempts).where(_due(now))
             .order_by(_T.c.id).limit(limit).with_for_update(skip_locked=True))
    if event_id is not None:
        query = query.where(_T.c.id == event_id)
    return db.session.execute(query).all()


def _apply(rows) -> None:
    events = [row.payload for row in rows]
    locked = lock_batch(events)  # the payments, at once, in id order
    posted = post_fast(events, locked)  # set-based: the fast path's postings, in rounds
    for n, row in enumerate(rows):
        if n in posted:
            continue
        db.session.flush()
        db.session.expire_all()  # each event reads the database afresh, as its request would
        apply_recorded(row.payload, locked.get(n))
    db.session.execute(update(_T).where(_T.c.id.in_([row.id for row in rows]))
                       .values(state=DONE, processed_at=utcnow(), error=None, retry_at=None))


def post_batch(limit: int | None = None) -> dict:
    """Post up to `limit` pending events (WEBHOOK_BATCH), committed together, or one by one
    when the batch fails. Counts: claimed, done, failed (kept with their error)."""
    limit = limit or current_app.config["WEBHOOK_BATCH"]
    rows = _claim(utcnow(), limit)
    if not rows:
        db.session.rollback()
        return dict(claimed=0, done=0, failed=0)
    try:
        _apply(rows)
        db.session.commit()
        return dict(claimed=len(rows), done=len(rows), failed=0)
    except Exception:  # noqa: BLE001 - any failure: the events are tried one by one
        db.session.rollback()
        log.warning("webhook batch of %d failed; posting its events one by one", len(rows),
                    exc_info=True)
    outcomes = [_post_one(row.id) for row in rows]
    return dict(claimed=len(rows), done=outcomes.count(DONE), failed=outcomes.count(FAILED))


def _post_one(event_id: int) -> str | None:
    """Post one pending event in a transaction of its own; on failure keep its error. DONE,
    FAILED, or None when another worker has taken or posted it meanwhile."""
    now = utcnow()
    rows = _claim(now, 1, event_id)
    if not rows:
        db.session.rollback()
        return None
    try:
        _apply(rows)
        db.session.commit()
        return DONE
    except Exception as exc:  # noqa: BLE001 - kept with the event, for its retry or a person
        db.session.rollback()
        log.warning("webhook event %s failed (attempt %d)", event_id, rows[0].attempts + 1,
                    exc_info=True)
        _keep_failure(event_id, rows[0].attempts + 1, exc, now)
        return FAILED


def _keep_failure(event_id: int, attempts: int, exc: Exception, now) -> None:
    most = current_app.config["WEBHOOK_MAX_ATTEMPTS"]
    wait = timedelta(minutes=min(60, 2 ** (attempts - 1)))
    db.session.execute(update(_T).where(_T.c.id == event_id, _T.c.state == PENDING).values(
        attempts=attempts, error=f"{type(exc).__name__}: {exc}"[:2000], retry_at=now + wait,
        state=case((_T.c.attempts + 1 >= most, FAILED), else_=PENDING)))
    db.session.commit()


def drain(limit: int | None = None, most_batches: int = 1000) -> dict:
    """Post every pending event due now, a batch a transaction, until none is left (or
    `most_batches`). Safe beside other workers and the webhook requests."""
    totals = dict(claimed=0, done=0, failed=0, batches=0)
    limit = limit or current_app.config["WEBHOOK_BATCH"]
    for _ in range(most_batches):
        counts = post_batch(limit)
        if not counts["claimed"]:
            break
        totals["batches"] += 1
        for key in ("claimed", "done", "failed"):
            totals[key] += counts[key]
        if counts["claimed"] < limit:
            break
    return totals


def drain_awake(when_idle: Callable[[], object] | None = None, linger: float | None = None,
                step: float | None = None, most: float | None = None,
                idle_within: float | None = None) -> dict:
    """A wake-up's drain (`portal.webhook_drain`, `portal.payments.wake`): awake (holding
    `wake.AWAKE`, so requests send no more wake-ups), `drain` at once, then again every
    `step` seconds until the inbox has stayed empty for `linger` seconds, then one last look
    after letting go of the lock. The wait lets the events of a steady stream gather into
    batches (a drain at each event costs its claim, commit and receipts' round every event).
    A wake-up that finds nothing (a stale one, or beat's poll came first) returns at once;
    one that finds another worker awake drains once. After `most` seconds it returns
    whatever comes, so the tasks queued behind it on its worker get their turn (beat's poll,
    or the next wake-up, goes on). `linger`, `step`, `most`: LINGER, GATHER, MOST_AWAKE
    unless given (read when called).

    `when_idle()` (the receipts the postings queued) runs once the inbox is empty after
    postings (a look finds nothing due), and at the latest `idle_within` seconds
    (IDLE_WITHIN) after the first posting it has not followed yet: while a burst lasts, the
    postings come first (a receipt is a message about money already posted; the money is
    what a cardholder's pages and the next payment read), and a steady stream still gets its
    receipts every `idle_within` seconds. It always runs before returning when postings are
    owed it."""
    linger = LINGER if linger is None else linger
    step = GATHER if step is None else step
    most = MOST_AWAKE if most is None else most
    idle_within = IDLE_WITHIN if idle_within is None else idle_within
    totals = dict(claimed=0, done=0, failed=0, batches=0)
    owed_since: list[float] = []  # when the oldest posting when_idle has not followed was made

    def one_drain() -> int:
        counts = drain()
        for key in totals:
            totals[key] += counts[key]
        if counts["claimed"] and not owed_since:
            owed_since.append(time.monotonic())
        if owed_since and (not counts["claimed"]
                           or time.monotonic() - owed_since[0] >= idle_within):
            settle()
        return counts["claimed"]

    def settle() -> None:
        if owed_since:
            owed_since.clear()
            if when_idle is not None:
                when_idle()

    def run() -> None:
        with wake.awake() as alone:
            if not one_drain() or not alone:
                return
            last = start = time.monotonic()
            while time.monotonic() - last < linger and time.monotonic() - start < most:
                time.sleep(step)  # the events arriving meanwhile gather into one batch
                if one_drain():
                    last = time.monotonic()
        one_drain()  # a request that saw this worker awake just before it let go

    # What was posted gets its receipts before the worker takes another task, also when a
    # drain fails (then the drain's error is the one raised; beat's outbox poll remains).
    try:
        run()
    except BaseException:
        try:
            settle()
        except Exception:  # noqa: BLE001 - logged; the drain's error goes on
            log.warning("receipts not sent after a failed drain", exc_info=True)
        raise
    settle()
    return totals


def retry_failed(event_ids: list[int] | None = None) -> int:
    """An operator's retry: failed events (those given, else all) pending again, due now."""
    query = update(_T).where(_T.c.state == FAILED)
    if event_ids:
        query = query.where(_T.c.id.in_(event_ids))
    count = db.session.execute(query.values(state=PENDING, attempts=0, retry_at=None)).rowcount
    db.session.commit()
    return count


def waiting() -> list:
    """Pending and failed events, oldest first, for an operator."""
    return db.session.execute(
        select(_T.c.id, _T.c.event_id, _T.c.type, _T.c.object_ref, _T.c.state, _T.c.attempts,
               _T.c.error, _T.c.received_at, _T.c.retry_at)
        .where(_T.c.state.in_((PENDING, FAILED))).order_by(_T.c.id).limit(200)).all()


def health(stale_after: timedelta) -> tuple[bool, dict]:
    """Whether the inbox's worker keeps up, for monitoring (`/health/jobs`): no event due
    for longer than `stale_after` is still pending (else the worker or beat has stopped, and
    payments wait unposted: state "held") and none has failed for good (it waits for a person:
    "failed"). With the counts; never an event's error or body (the endpoint needs no
    sign-in)."""
    now = utcnow()

    def of(column, *where):  # each a statement of its own, so each finds its partial index
        return select(column).select_from(_T).where(*where).scalar_subquery()

    pending, failed, oldest = db.session.execute(select(
        of(func.count(), _T.c.state == PENDING), of(func.count(), _T.c.state == FAILED),
        of(func.min(func.coalesce(_T.c.retry_at, _T.c.received_at)), _due(now)))).one()
    oldest = as_aware(oldest) if oldest is not None else None
    state = ("failed" if failed else "held" if oldest is not None and now - oldest > stale_after
             else "ok")
    return state == "ok", {"state": state, "pending": pending, "failed": failed,
                           "oldest_due": oldest.isoformat() if oldest is not None else None}


def forget_bodies(older_than: timedelta, batch: int = 5000) -> dict:
    """Drop the verified body of every event posted more than `older_than` ago (it can hold
    a cardholder's billing details, and nothing reads it once the event is done): the row
    stays, so a redelivery is still a duplicate and an operator still sees what came when.
    Pending and failed events keep theirs (the worker and a retry need it). In batches of
    `batch` rows a transaction, so no lock is held long. Counts: forgotten."""
    before = utcnow() - older_than
    done = 0
    while True:
        ids = select(_T.c.id).where(_T.c.state == DONE, _T.c.payload.is_not(None),
                                    _T.c.processed_at < before).limit(batch).scalar_subquery()
        count = db.session.execute(update(_T).where(_T.c.id.in_(ids))
                                   .values(payload=null())).rowcount
        db.session.commit()
        done += count
        if count < batch:
            return {"forgotten": done}
