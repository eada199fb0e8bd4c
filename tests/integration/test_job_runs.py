"""Runs of jobs are recorded (CLI and job engine alike), shown to admin, and the nightly run's
health answers on /health/jobs. (The job engine's own processes: test_jobs_engine.py.)"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.cli import RECORDED
from portal.extensions import db as _db
from portal.jobs import runs
from portal.jobs.models import JobRun
from portal.jobs.nightly import candidate_ranges, run_nightly
from portal.jobs.nightly_share import MIN_BATCH
from portal.tasks import jobs as _tasks  # noqa: F401  (registers the tasks on the engine)
from portal.tasks.schedule import SCHEDULE

DUE = date(2026, 11, 1)


def _late_accounts(make_account, count):
    return [make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                         effective=DUE) for _ in range(count)]


def test_health_is_503_until_a_nightly_run_succeeds_and_again_when_it_is_stale(client, clock):
    first = client.get("/health/jobs")
    assert first.status_code == 503 and first.json["nightly"]["state"] == "never_ran"
    run = runs.start("nightly", trigger="schedule", task_id="t-1")
    runs.succeed(run, {"accounts_processed": 3})
    ok = client.get("/health/jobs")
    assert ok.status_code == 200 and ok.json["status"] == "ok"
    assert ok.json["nightly"]["last_status"] == "succeeded"
    clock.shift(timedelta(hours=3, minutes=1))  # JOBS_NIGHTLY_STALE_HOURS = 3
    stale = client.get("/health/jobs")
    assert stale.status_code == 503 and stale.json["nightly"]["state"] == "stale"


def test_health_reports_a_failed_nightly_run_and_only_admin_sees_its_error(
        client, login_as, make_staff):
    runs.succeed(runs.start("nightly", trigger="schedule", task_id="t-1"))
    failed = runs.start("nightly", trigger="schedule", task_id="t-2")
    runs.fail(failed, RuntimeError("connection to db-7.internal refused"))
    answer = client.get("/health/jobs")
    assert answer.status_code == 503 and answer.json["nightly"]["state"] == "failed"
    assert answer.json["failed_tasks_24h"] == 1
    assert "db-7.internal" not in answer.get_data(as_text=True)  # no sign-in needed here
    login_as(client, make_staff("admin"))
    page = client.get("/staff/jobs").get_data(as_text=True)
    assert "The last nightly run failed" in page and "db-7.internal refused" in page


def test_health_reports_a_nightly_run_going_for_longer_than_the_stale_limit(client, clock):
    runs.succeed(runs.start("nightly", trigger="schedule", task_id="t-1"))
    runs.start("nightly", trigger="schedule", task_id="t-2")  # never finishes
    clock.shift(timedelta(hours=2))
    assert client.get("/health/jobs").status_code == 200
    clock.shift(timedelta(hours=1, minutes=1))
    answer = client.get("/health/jobs")
    assert answer.status_code == 503 and answer.json["nightly"]["state"] in ("stale", "stuck")


def test_a_redelivered_message_is_one_run_with_one_more_attempt(db):
    run = runs.start("autopay", trigger="schedule", task_id="same-message")
    again = runs.start("autopay", trigger="schedule", task_id="same-message", worker="w2")
    assert again.id == run.id and again.attempts == 2 and again.worker == "w2"
    runs.succeed(again)
    done = runs.start("autopay", trigger="schedule", task_id="same-message")
    assert done.status == "succeeded" and done.attempts == 2  # finished: left as it was
    assert len(_db.session.scalars(select(JobRun)).all()) == 1


def test_the_nightly_command_records_its_run_with_counts(runner, make_account):
    _late_accounts(make_account, 2)
    result = runner.invoke(args=["jobs", "nightly", "--as-of", "2026-11-03"])
    assert result.exit_code == 0, result.output
    run = _db.session.scalar(select(JobRun))
    assert (run.job, run.trigger, run.status) == ("nightly", "cli", "succeeded")
    assert run.counts["accounts_processed"] == 2 and run.counts["entries_posted"] == 6
    assert run.params == {"as_of": "2026-11-03 00:00:00", "batch_size": "200"}
    assert run.finished_at is not None


def test_a_command_that_fails_is_recorded_as_failed_with_its_error(runner):
    result = runner.invoke(args=["outbox", "deliver", "--now", "2026-12-31T00:00:00"])
    assert result.exit_code == 2
    run = _db.session.scalar(select(JobRun))
    assert (run.job, run.status) == ("outbox deliver", "failed")
    assert "give a time zone" in run.error


def test_admin_sees_runs_and_failures_for_good(client, login_as, make_staff):
    runs.succeed(runs.start("reconcile", trigger="schedule", task_id="r-1"), {"posted": 2})
    failed = runs.start("journal export", trigger="schedule", task_id="j-1")
    runs.again(failed)
    runs.fail(failed, OSError("disk full"))
    login_as(client, make_staff("admin"))
    page = client.get("/staff/jobs").get_data(as_text=True)
    assert "Failed for good" in page and "OSError: disk full" in page and "2 attempts" in page
    assert "reconcile" in page and "posted" in page
    assert "The nightly run has not run yet" in page


def test_ranges_cut_the_accounts_due_and_each_range_processes_only_its_own(make_account):
    accounts = _late_accounts(make_account, 5)
    ids = [a.id for a in accounts]
    ranges = candidate_ranges(date(2026, 11, 3), 2)
    assert ranges == [(ids[0], ids[1]), (ids[2], ids[3]), (ids[4], ids[4])]
    summary = run_nightly(date(2026, 11, 3), first_id=ids[2], last_id=ids[3])
    assert summary.accounts_processed == 2
    done = set(_db.session.scalars(select(LedgerEntry.account_id).where(
        LedgerEntry.kind == EntryKind.INTEREST)))
    assert done == {ids[2], ids[3]}
    assert candidate_ranges(date(2026, 11, 3), 2) == [(ids[0], ids[1]), (ids[4], ids[4])]


def test_the_last_ranges_are_smaller_so_the_workers_finish_together(make_account):
    """Issue 15 (two workers): 5,000 accounts in chunks of 1,000 were three chunks for one
    worker and two for the other. The last ranges hold a quarter of what is left, at least
    MIN_BATCH accounts."""
    ids = [a.id for a in _late_accounts(make_account, 3 * MIN_BATCH)]
    ranges = candidate_ranges(date(2026, 11, 3), 2 * MIN_BATCH)
    assert ranges == [(ids[k], ids[k + MIN_BATCH - 1]) for k in range(0, len(ids), MIN_BATCH)]


def test_every_scheduled_job_is_a_registered_task_and_its_command_records_its_run(app, runner):
    # The reminders job came after the engine: it must be on the schedule like the others.
    engine = app.extensions["celery"]
    assert "reminders" in SCHEDULE
    for name, (task, _when, command) in SCHEDULE.items():
        assert task in engine.tasks, name
        group, sub = command.split()[:2]
        assert (group, sub) in RECORDED, name
    result = runner.invoke(args=["jobs", "reminders"])
    assert result.exit_code == 0, result.output
    run = _db.session.scalar(select(JobRun).where(JobRun.job == "reminders"))
    assert (run.trigger, run.status) == ("cli", "succeeded")
    assert set(run.counts) == {"due_soon", "missed", "promises", "broken"}
