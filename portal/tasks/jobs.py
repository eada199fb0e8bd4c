"""The scheduled jobs as Celery tasks: each records its run (`portal.jobs.runs`) and is safe
to run twice, so a message redelivered after a worker died, or retried after an error,
changes nothing that was already done.

The nightly run fans out: `nightly` checks plans, cuts the accounts with days to process into
ranges of ids (one `job_run` row each, queued) and sends one `nightly_chunk` per range; each
chunk runs `portal.jobs.nightly.run_nightly` on its range, adding each batch's counts to its
row in the batch's own transaction. The last chunk to finish closes the nightly run.
"""
from __future__ import annotations

import os
from dataclasses import asdict
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from portal.collections.reminders import send_reminders
from portal.core.today import staff_today
from portal.experiments.assignment import assign_new
from portal.exports.anchors import anchor_and_export
from portal.exports.journal import JOURNAL_COLUMNS, journal_rows
from portal.exports.services import write_file
from portal.extensions import db
from portal.jobs import runs
from portal.jobs.models import JobRun
from portal.jobs.nightly import candidate_ranges, run_nightly
from portal.journal.services import unacknowledged
from portal.outbox.services import deliver_due, deliver_pending, deliver_transactional
from portal.payments.autopay import run_autopay
from portal.payments.inbox import drain, drain_awake, forget_bodies
from portal.payments.reconcile import reconcile
from portal.plans.jobs import run_plan_monitoring
from portal.timeutil import utcnow


def _final(task) -> bool:
    return task.request.retries >= task.max_retries


def _recorded(task, job: str, work) -> dict:
    run = runs.start(job, trigger="schedule", task_id=task.request.id,
                     worker=task.request.hostname)
    if run.status in runs.FINISHED:
        return run.counts  # delivered again after it finished: nothing more to do
    try:
        counts = work()
    except Exception as exc:
        runs.fail(run, exc, final=_final(task))
        raise
    runs.succeed(run, counts)
    return counts


@shared_task(bind=True, name="portal.autopay")
def autopay(self):
    return _recorded(self, "autopay", run_autopay)


@shared_task(bind=True, name="portal.reconcile")
def reconcile_payments(self):
    return _recorded(self, "reconcile", reconcile)


@shared_task(bind=True, name="portal.reminders")
def reminders(self):
    return _recorded(self, "reminders", lambda: asdict(send_reminders()))


def _assign_experiments() -> dict:
    counts = assign_new(staff_today())
    db.session.commit()
    return counts


@shared_task(bind=True, name="portal.experiment_assignment")
def experiment_assignment(self):
    return _recorded(self, "experiment assignment", _assign_experiments)


@shared_task(bind=True, name="portal.outbox_deliver")
def outbox_deliver(self):
    return _recorded(self, "outbox deliver", lambda: {"delivered": deliver_due()})


@shared_task(bind=True, name="portal.outbox_deliver_ids")
def outbox_deliver_ids(self, ids: list[int]):
    """Deliver the messages one transaction queued (sent here after it committed instead of
    being delivered inside the web request). Safe twice: each message is claimed once."""
    return {"delivered": deliver_pending(ids)}


@shared_task(bind=True, name="portal.outbox_poll", autoretry_for=(), max_retries=0)
def outbox_poll(self):
    """Send the transactional messages committed since the last poll (beat, every
    OUTBOX_POLL_SECONDS). Records no job run and is not retried: the next poll is the
    retry, and a message that fails waits for its retry time as in any delivery."""
    return {"delivered": deliver_transactional()}


@shared_task(bind=True, name="portal.webhook_bodies")
def webhook_bodies(self):
    """Drop the bodies of webhook events posted more than WEBHOOK_BODY_DAYS ago."""
    days = current_app.config["WEBHOOK_BODY_DAYS"]
    return _recorded(self, "webhook bodies", lambda: forget_bodies(timedelta(days=days)))


@shared_task(bind=True, name="portal.webhook_poll", autoretry_for=(), max_retries=0)
def webhook_poll(self):
    """Post the webhook events recorded since the last poll, in batches (beat, every
    OUTBOX_POLL_SECONDS; `portal.payments.inbox.drain`). Records no job run and is not
    retried: an event that fails keeps its error and its own retry time."""
    return drain()


@shared_task(bind=True, name="portal.webhook_drain", autoretry_for=(), max_retries=0)
def webhook_drain(self):
    """Post the webhook events at once: sent by the commit of a request that recorded an
    event into an empty inbox (`portal.payments.wake`); drains until the inbox has stayed
    empty a moment, sending the receipts each time it is empty (`inbox.drain_awake`). Not
    retried: beat's `portal.webhook_poll` and `portal.outbox_poll` remain the safety net."""
    return drain_awake(when_idle=deliver_transactional)


def _export_journal() -> dict:
    """Yesterday's journal (UTC days, as `flask exports journal`), written atomically to
    JOURNAL_EXPORT_DIR/journal-YYYY-MM-DD.csv: a second run writes the same bytes."""
    day = utcnow().date() - timedelta(days=1)
    directory = current_app.config["JOURNAL_EXPORT_DIR"] or os.path.join(
        current_app.instance_path, "exports")
    path = os.path.join(directory, f"journal-{day.isoformat()}.csv")
    return {"rows": write_file(journal_rows(day, day), JOURNAL_COLUMNS, path)}


@shared_task(bind=True, name="portal.journal_export")
def journal_export(self):
    return _recorded(self, "journal export", _export_journal)


@shared_task(bind=True, name="portal.journal_ageing")
def journal_ageing(self):
    days = current_app.config["JOURNAL_ACK_DAYS"]
    return _recorded(self, "journal ageing",
                     lambda: {"unacknowledged": len(unacknowledged(utcnow(), days))})


def _anchor() -> dict:
    run = anchor_and_export()  # what `flask audit anchor` runs
    return {"anchors": 1, "files_written": len(run.export.written)}


@shared_task(bind=True, name="portal.audit_anchor")
def audit_anchor(self):
    return _recorded(self, "audit anchor", _anchor)


@shared_task(bind=True, name="portal.nightly")
def nightly(self):
    """Check plans, then fan the nightly run out in chunks of accounts."""
    run = runs.start("nightly", trigger="schedule", task_id=self.request.id,
                     worker=self.request.hostname)
    if run.status in runs.FINISHED:
        return
    try:
        chunks = _chunks_of(run)
    except Exception as exc:
        runs.fail(run, exc, final=_final(self))
        raise
    for chunk in chunks:
        if chunk.status not in runs.FINISHED:
            nightly_chunk.apply_async(args=[chunk.id], task_id=chunk.task_id)
    _close_if_done(run.id)


def _chunks_of(run: JobRun) -> list[JobRun]:
    """The run's chunks: made once (a redelivered message finds them and sends them again)."""
    chunks = _children(run.id)
    if chunks:
        return chunks
    plans = run_plan_monitoring(None)  # first: a plan broken today must not keep pausing
    run = db.session.get(JobRun, run.id)
    run.counts = plans.counts()
    size = current_app.config["JOBS_NIGHTLY_CHUNK"]
    for first, last in candidate_ranges(None, size):
        db.session.add(JobRun(job="nightly chunk", trigger="parent", parent_id=run.id,
                              task_id=f"nightly-{run.id}-{first}", status="queued",
                              attempts=1, counts={}, params={"first_id": first,
                                                             "last_id": last}))
    db.session.commit()
    return _children(run.id)


def _children(run_id: int) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).where(JobRun.parent_id == run_id)
                                   .order_by(JobRun.id)))


@shared_task(bind=True, name="portal.nightly_chunk")
def nightly_chunk(self, chunk_id: int):
    """One range of accounts of a nightly run, up to each one's last ended local day."""
    chunk = db.session.get(JobRun, chunk_id)
    if chunk is None or chunk.status in runs.FINISHED:
        return
    runs.again(chunk, self.request.hostname)
    first, last = chunk.params["first_id"], chunk.params["last_id"]
    try:
        # The range is this chunk's alone: rows found locked belong to a worker that died
        # mid-batch, so wait for its rollback rather than skip them.
        run_nightly(None, batch_size=current_app.config["JOBS_NIGHTLY_BATCH"], first_id=first,
                    last_id=last, skip_locked=False,
                    on_batch=lambda batch: runs.add_counts(chunk_id, asdict(batch)))
    except Exception as exc:
        runs.fail(chunk, exc, final=_final(self))
        if _final(self):
            _close_if_done(chunk.parent_id)
        raise
    runs.succeed(db.session.get(JobRun, chunk_id))
    _close_if_done(chunk.parent_id)


def _close_if_done(run_id: int) -> None:
    """Close the nightly run once every chunk has finished: succeeded with the sum of their
    counts, or failed naming the chunks that failed for good. The run's row is locked, so
    two chunks finishing at once close it once."""
    run = db.session.get(JobRun, run_id, with_for_update=True)
    chunks = _children(run_id)
    if run.status in runs.FINISHED or any(c.status not in runs.FINISHED for c in chunks):
        db.session.commit()
        return
    counts = dict(run.counts or {})
    for chunk in chunks:
        for key, value in (chunk.counts or {}).items():
            counts[key] = counts.get(key, 0) + value
    counts["chunks"] = len(chunks)
    failed = [c for c in chunks if c.status == "failed"]
    run.counts, run.finished_at = counts, utcnow()
    run.status = "failed" if failed else "succeeded"
    run.error = "; ".join(f"accounts {c.params['first_id']}-{c.params['last_id']}: {c.error}"
                          for c in failed)[:runs.ERROR_LIMIT] or None
    db.session.commit()
