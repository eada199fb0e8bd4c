"""The job engine for real: Celery workers and beat on the local RabbitMQ, on PostgreSQL.

Skipped without a broker or PostgreSQL; `.ci/run` requires them (a skip fails its PostgreSQL
run). Each test runs the workers on a queue of its own (tests/integration/jobs_helpers.py).
"""
from __future__ import annotations

import os
from datetime import date, timedelta

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from portal.accounts.models import EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.jobs.models import JobRun
from tests.integration.jobs_helpers import Engine, broker_answers, wait_for

pytestmark = [
    pytest.mark.broker, pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="needs TEST_DATABASE_URL (PostgreSQL: several worker processes)"),
    pytest.mark.skipif(not broker_answers(), reason="needs RabbitMQ (JOBS_TEST_BROKER_URL, "
                                                    "default amqp://guest:guest@127.0.0.1:5672//)"),
    pytest.mark.xdist_group("broker"),  # one test at a time: they start several processes
]

DUE = date(2026, 11, 1)


@pytest.fixture()
def engine(app, db, tmp_path):
    running = Engine(app, tmp_path)
    yield running
    running.stop()


def _accounts(make_cardholder, make_account, zone: str, count: int):
    holder = make_cardholder(timezone=zone)
    return [make_account(holder, principal=500_000, minimum_due=50_000,
                         oldest_unpaid_due_date=DUE, effective=DUE) for _ in range(count)]


def _finished(job: str):
    _db.session.rollback()  # see what the workers committed
    return _db.session.scalar(select(JobRun).where(
        JobRun.job == job, JobRun.parent_id.is_(None),
        JobRun.status.in_(("succeeded", "failed"))))


def _chunks(run: JobRun) -> list[JobRun]:
    return list(_db.session.scalars(select(JobRun).where(JobRun.parent_id == run.id)
                                    .order_by(JobRun.id)))


def _interest_days(account) -> list[date]:
    return list(_db.session.scalars(select(LedgerEntry.effective_date).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.INTEREST)
        .order_by(LedgerEntry.effective_date)))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_scheduled_nightly_fans_out_over_two_workers_doing_each_account_once(
        engine, make_cardholder, make_account, clock):
    shanghai = _accounts(make_cardholder, make_account, "Asia/Shanghai", 4)
    new_york = _accounts(make_cardholder, make_account, "America/New_York", 4)
    _db.session.commit()
    # 08:04 in Shanghai (28 Nov has ended), 19:04 on 28 Nov in New York (27 Nov has). Beat
    # starts on this moment and fires the nightly run at 00:05 (what starts after a scheduled
    # minute waits for the next one: hence the margin for the processes to start).
    clock.move_to("2026-11-29T00:04:35+00:00")
    for name in ("a", "b"):
        engine.worker(name, JOBS_NIGHTLY_CHUNK=2, JOBS_NIGHTLY_BATCH=1)
    engine.beat()  # the schedule in code: the nightly run at minute 5 of every hour

    run = wait_for(lambda: _finished("nightly"), 120, f"the nightly run\n{engine.logs()}")
    assert run.status == "succeeded" and run.trigger == "schedule", engine.logs()
    chunks = _chunks(run)
    assert len(chunks) == 4 and {c.status for c in chunks} == {"succeeded"}
    assert {c.worker.split("-")[0] for c in chunks} == {"a", "b"}  # both workers took chunks
    assert run.counts["accounts_processed"] == 8 and run.counts["chunks"] == 4
    for account in shanghai:
        assert _interest_days(account) == _days(date(2026, 11, 2), date(2026, 11, 28))
    for account in new_york:
        assert _interest_days(account) == _days(date(2026, 11, 2), date(2026, 11, 27))


def _plain_dsn(app) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def test_a_worker_killed_mid_chunk_loses_nothing_and_another_redoes_it_once(
        engine, app, make_cardholder, make_account):
    accounts = _accounts(make_cardholder, make_account, "Asia/Shanghai", 6)
    _db.session.commit()
    settings = {"JOBS_NIGHTLY_CHUNK": 6, "JOBS_NIGHTLY_BATCH": 2}
    # A transaction of the test's own holds the 4th account's state row: the chunk commits
    # its first batch (accounts 1-2) and stops inside the second, where the worker is killed.
    holder = psycopg.connect(_plain_dsn(app))
    holder.execute("INSERT INTO account_nightly_state (account_id, last_processed_day, stage, "
                   "interest_carry, updated_at) VALUES (%s, %s, 'current', 0, now())",
                   (accounts[3].id, DUE))
    first = engine.worker("a", **settings)
    engine.send("portal.nightly")

    def stuck_in_second_batch():
        _db.session.rollback()
        chunk = _db.session.scalar(select(JobRun).where(JobRun.job == "nightly chunk"))
        waiting = _db.session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"))
        return chunk is not None and chunk.counts.get("accounts_processed") == 2 and waiting

    wait_for(stuck_in_second_batch, 90, f"the chunk to block in its second batch\n"
                                        f"{engine.logs()}")
    first.kill()  # SIGKILL to the worker and its pool process, mid-task
    engine.worker("b", **settings)
    holder.rollback()
    holder.close()

    run = wait_for(lambda: _finished("nightly"), 120, f"the nightly run\n{engine.logs()}")
    assert run.status == "succeeded", engine.logs()
    [chunk] = _chunks(run)
    assert chunk.attempts == 2 and chunk.worker.startswith("b-")
    # counted once each: the first batch by the killed worker, the rest by the other one
    assert chunk.counts["accounts_processed"] == 6 == run.counts["accounts_processed"]
    for account in accounts:
        assert _interest_days(account) == _days(date(2026, 11, 2), date(2026, 11, 27))


def test_a_task_failing_every_time_is_recorded_as_failed_for_good_after_its_retries(
        engine, tmp_path, client, login_as, make_staff):
    not_a_directory = tmp_path / "exports-here"
    not_a_directory.write_text("a file where the export directory should be")
    engine.worker("a", JOBS_MAX_RETRIES=2, JOURNAL_EXPORT_DIR=not_a_directory / "journal")
    engine.send("portal.journal_export")

    run = wait_for(lambda: _finished("journal export"), 90,
                   f"the export to fail for good\n{engine.logs()}")
    assert run.status == "failed" and run.attempts == 3  # the first try and two retries
    assert "NotADirectoryError" in run.error and run.finished_at is not None
    login_as(client, make_staff("admin"))
    page = client.get("/staff/jobs").get_data(as_text=True)
    assert "journal export" in page and "NotADirectoryError" in page and "3 attempts" in page


def test_beat_polls_the_outbox_and_a_committed_receipt_goes_out_once(
        app, engine, make_account, monkeypatch):
    """With the outbox poll (OUTBOX_POLL_SECONDS), a payment confirmation's commit sends no
    task: beat's poll has a worker send it, within a few polls, once; also when the portal's
    clock is shifted (PORTAL_NOW, as every child here runs)."""
    from portal.outbox.models import OutboxMessage  # lazy: this test only
    from portal.outbox.services import queue_transactional
    from tests.outbox_reader import read_outbox

    monkeypatch.setitem(app.config, "JOBS_BROKER_URL", engine.environ()["JOBS_BROKER_URL"])
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 1)
    holder = make_account().cardholder
    # queued before the engine starts: each child's clock starts at the test's moment when it
    # is started (PORTAL_NOW), so a message queued later would be due later on theirs
    message_id = queue_transactional(holder, "Payment received", "Thank you.",
                                     purpose="payment")
    _db.session.commit()
    engine.worker("a", OUTBOX_POLL_SECONDS=1)
    engine.beat(OUTBOX_POLL_SECONDS=1)

    def sent():
        _db.session.rollback()  # see what the worker committed
        return _db.session.scalar(select(OutboxMessage.delivered_at)
                                  .where(OutboxMessage.id == message_id))

    wait_for(sent, 60, "beat's poll to send the receipt (a poll with an expiry judged by "
             "the worker's clock against beat's shifted one was discarded: this test found it)")
    assert [m["body"].strip() for m in read_outbox(app.config["OUTBOX_DIR"])] == ["Thank you."]
