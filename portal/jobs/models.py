"""What the job engine and the operators ran: one row per run of a job, and per nightly chunk."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow

RUN_STATUSES = ("queued", "running", "retrying", "succeeded", "failed")


class JobRun(db.Model):
    """One run of a scheduled job (or one chunk of a nightly run: `parent_id` set).

    `task_id` is the job engine's message id: a message redelivered after a worker died, or
    retried after an error, finds its row again (`attempts` counts the tries), so a run is
    recorded once however often it was tried. `status` (a nightly chunk starts queued) ends as
    succeeded or failed (failed for good: after the retries); `counts` are what the job did,
    `error` the last error.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'retrying', 'succeeded', 'failed')",
                        name="job_run_status"),
        CheckConstraint("attempts >= 1", name="job_run_attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule, cli or parent (a chunk)
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    worker: Mapped[str | None] = mapped_column(String(128))  # the last worker that tried it
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
