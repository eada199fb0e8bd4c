"""Experiments defined by risk, and the arm each account was assigned to.

An experiment's definition is never edited once created (the comparison would mean nothing);
it can only be stopped early (`stopped_on`, `stopped_by_id`). Assignments are written once
(when the experiment is created, and by the assignment job for accounts that become overdue
later) and never changed or deleted: an account stays in its arm.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, CheckConstraint, Date, DateTime, ForeignKey, Integer, String,
                        UniqueConstraint, event, inspect)
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class ExperimentImmutable(Exception):
    """Raised when code tries to change an experiment's definition or an assignment."""


class Experiment(db.Model):
    __tablename__ = "experiment"
    __table_args__ = (
        CheckConstraint("kind IN ('offers', 'reminder')", name="kind_known"),
        CheckConstraint("challenger_percent BETWEEN 1 AND 99", name="split_within"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    profile: Mapped[str] = mapped_column(String(16), index=True)
    a_name: Mapped[str] = mapped_column(String(60))
    b_name: Mapped[str] = mapped_column(String(60))
    a_settings: Mapped[dict] = mapped_column(JSON)
    b_settings: Mapped[dict] = mapped_column(JSON)
    challenger_percent: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    salt: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    def arm_name(self, arm: str) -> str:
        return self.a_name if arm == "a" else self.b_name

    def settings(self, arm: str) -> dict:
        return self.a_settings if arm == "a" else self.b_settings


class ExperimentAssignment(db.Model):
    __tablename__ = "experiment_assignment"
    __table_args__ = (
        UniqueConstraint("experiment_id", "account_id", name="uq_experiment_assignment_account"),
        CheckConstraint("arm IN ('a', 'b')", name="arm_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    arm: Mapped[str] = mapped_column(String(1))
    assigned_on: Mapped[date] = mapped_column(Date)


@event.listens_for(Experiment, "before_update")
def _only_stop(mapper, connection, target):
    state = inspect(target)
    for attr in mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.has_changes() and (attr.key not in ("stopped_on", "stopped_by_id") or any(
                v is not None for v in history.deleted)):
            raise ExperimentImmutable(f"experiment {target.id} can only be stopped, once")


@event.listens_for(ExperimentAssignment, "before_update")
@event.listens_for(ExperimentAssignment, "before_delete")
@event.listens_for(Experiment, "before_delete")
def _refuse(mapper, connection, target):
    raise ExperimentImmutable(f"{mapper.local_table.name} {target.id} is kept as it is")
