"""Recording runs of jobs (`JobRun`): the job engine's tasks and the operators' commands alike.

Each function commits its own small transaction, separate from the job's work, so a record
survives the job's rollback and a reader (the staff page, the health endpoint) sees a run
while it is still going.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.jobs.models import JobRun
from portal.timeutil import as_aware, utcnow

FINISHED = ("succeeded", "failed")
ERROR_LIMIT = 2000  # characters of an error message kept


def start(job: str, *, trigger: str, task_id: str | None = None, params: dict | None = None,
          parent_id: int | None = None, worker: str | None = None) -> JobRun:
    """The run of this task id (a redelivered or retried message: one more attempt) or a new
    one. A run already finished is returned as it is: the caller does nothing more."""
    if task_id is not None:
        run = db.session.scalar(select(JobRun).where(JobRun.task_id == task_id))
        if run is not None:
            return again(run, worker)
    run = JobRun(job=job, trigger=trigger, task_id=task_id, params=params or {},
                 parent_id=parent_id, status="running", attempts=1, counts={}, worker=worker)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:  # the same message delivered twice at once: one row wins
        db.session.rollback()
        return again(db.session.scalar(select(JobRun).where(JobRun.task_id == task_id)), worker)
    return run


def again(run: JobRun, worker: str | None = None) -> JobRun:
    """The first attempt at a queued run, or one more at a run not yet finished (a retry, or a
    redelivery after a worker died); a finished run is left as it is."""
    if run.status not in FINISHED:
        if run.status != "queued":
            run.attempts += 1
        run.status, run.worker = "running", worker or run.worker
        db.session.commit()
    return run


def add_counts(run_id: int, counts: dict) -> None:
    """Add `counts` to the run's, in the caller's transaction (flushed, not committed): the
    counts then commit with the work they count, or not at all."""
    run = db.session.get(JobRun, run_id, with_for_update=True)
    merged = dict(run.counts or {})
    for key, value in counts.items():
        merged[key] = merged.get(key, 0) + value
    run.counts = merged
    db.session.flush()


def succeed(run: JobRun, counts: dict | None = None) -> None:
    if counts:
        run.counts = {**(run.counts or {}), **counts}
    run.status, run.error, run.finished_at = "succeeded", None, utcnow()
    db.session.commit()


def fail(run: JobRun, error: BaseException | str, *, final: bool = True) -> None:
    """Record an error: `final` (no retry left) ends the run as failed, else it is retrying."""
    db.session.rollback()
    run = db.session.get(JobRun, run.id)
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    run.error = message[:ERROR_LIMIT]
    run.status = "failed" if final else "retrying"
    if final:
        run.finished_at = utcnow()
    db.session.commit()


@contextmanager
def recorded(job: str, *, trigger: str = "cli", params: dict | None = None):
    """Record what the block does as one run of `job` (an operator's command): succeeded, or
    failed with the error (an exit status other than 0 counts as failed). The block may set
    `run.counts`."""
    run = start(job, trigger=trigger, params=params)
    try:
        yield run
    except SystemExit as exc:
        if exc.code not in (None, 0):
            fail(run, f"exit status {exc.code}")
        else:
            succeed(run)
        raise
    except BaseException as exc:
        fail(run, exc)
        raise
    succeed(run)


def latest(job: str, *, finished: bool = False) -> JobRun | None:
    query = select(JobRun).where(JobRun.job == job, JobRun.parent_id.is_(None))
    if finished:
        query = query.where(JobRun.status.in_(FINISHED))
    return db.session.scalar(query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))


def recent(limit: int = 50, *, failed_only: bool = False) -> list[JobRun]:
    query = select(JobRun)
    if failed_only:
        query = query.where(JobRun.status == "failed")
    return list(db.session.scalars(query.order_by(JobRun.id.desc()).limit(limit)))


def failed_since(hours: int) -> int:
    return db.session.scalar(select(func.count(JobRun.id)).where(
        JobRun.status == "failed", JobRun.finished_at >= utcnow() - timedelta(hours=hours)))


def nightly_health(stale_after: timedelta) -> tuple[bool, dict]:
    """Whether the nightly run is healthy: its newest finished run succeeded less than
    `stale_after` ago and no run has been going for longer than that. With the facts, which
    the public health endpoint shows: never an error's text (it may name internals)."""
    now = utcnow()
    last = latest("nightly", finished=True)
    current = latest("nightly")
    facts = {"last_status": last.status if last else None,
             "last_started": as_aware(last.started_at).isoformat() if last else None,
             "last_finished": as_aware(last.finished_at).isoformat() if last else None,
             "running_since": (as_aware(current.started_at).isoformat()
                               if current and current.status not in FINISHED else None)}
    if last is None:
        facts["state"] = "never_ran"
    elif last.status == "failed":
        facts["state"] = "failed"
    elif now - as_aware(last.finished_at) > stale_after:
        facts["state"] = "stale"
    elif current and current.status not in FINISHED and \
            now - as_aware(current.started_at) > stale_after:
        facts["state"] = "stuck"
    else:
        facts["state"] = "ok"
    return facts["state"] == "ok", facts
