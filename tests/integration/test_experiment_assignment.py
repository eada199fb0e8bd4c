"""Champion/challenger: accounts that become overdue after an experiment was created are
assigned by the assignment job (`flask jobs experiments`, portal.experiment_assignment), to
the arm the experiment's salt draws for them, once; assigned accounts never move; ended and
stopped experiments take no one. On PostgreSQL two runs at once assign each account once."""
from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AccountStatus
from portal.audit.models import AuditEvent
from portal.experiments.assignment import assign_new
from portal.experiments.models import Experiment, ExperimentAssignment
from portal.experiments.rules import arm_for
from portal.experiments.services import create, stop
from portal.extensions import db
from portal.jobs.models import JobRun
from tests.clock import TODAY
from tests.helpers import run_together
from tests.integration.test_experiments import OVERDUE, arms_of, offers_defn


def _run(runner, *args):
    result = runner.invoke(args=["jobs", "experiments", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_accounts_overdue_after_the_start_are_assigned_by_the_job_once(runner, make_staff,
                                                                      make_account):
    first = [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(3)]
    later = [make_account() for _ in range(30)]
    experiment = create(offers_defn(), make_staff("risk"), TODAY)
    db.session.commit()
    cohort = arms_of(experiment)
    assert set(cohort) == {a.id for a in first}
    for account in later:  # the feed says they are overdue now
        account.oldest_unpaid_due_date = OVERDUE
    db.session.commit()

    assert "accounts assigned: 30" in _run(runner)
    arms = arms_of(experiment)
    assert set(arms) == {a.id for a in first + later}
    assert {i: arms[i] for i in cohort} == cohort  # nobody already assigned moved
    # the arm the experiment's salt draws: the same function as at creation
    assert arms == {i: arm_for(experiment.salt, i, experiment.challenger_percent) for i in arms}
    assert set(arms.values()) == {"a", "b"}
    dates = set(db.session.scalars(select(ExperimentAssignment.assigned_on).where(
        ExperimentAssignment.account_id.in_([a.id for a in later]))))
    assert dates == {TODAY}

    assert "accounts assigned: 0" in _run(runner)  # idempotent
    assert db.session.scalar(select(func.count()).select_from(ExperimentAssignment)) == 33
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "experiments.assigned"))
    assert event.after["accounts"]["a"] + event.after["accounts"]["b"] == 30
    assert event.actor_type == "system"
    run = db.session.scalar(select(JobRun).where(JobRun.job == "experiment assignment")
                            .order_by(JobRun.id))
    assert (run.trigger, run.status, run.counts) == ("cli", "succeeded",
                                                     {"experiments": 1, "assigned": 30})


def test_an_account_that_cures_keeps_its_arm_and_closed_or_other_accounts_are_not_taken(
        runner, make_staff, make_account):
    account = make_account(oldest_unpaid_due_date=OVERDUE)
    experiment = create(offers_defn(), make_staff("risk"), TODAY)
    db.session.commit()
    before = arms_of(experiment)
    account.oldest_unpaid_due_date = None  # paid up: still in its arm
    closed = make_account(oldest_unpaid_due_date=OVERDUE, status=AccountStatus.CLOSED)
    other = make_account(currency="USD", profile="us", oldest_unpaid_due_date=OVERDUE)
    db.session.commit()
    _run(runner)
    assert arms_of(experiment) == before
    assert closed.id not in arms_of(experiment) and other.id not in arms_of(experiment)


def test_stopped_and_ended_experiments_take_no_one_and_one_not_yet_started_does(
        runner, make_staff, make_account):
    risk = make_staff("risk")
    stopped = create(offers_defn(), risk, TODAY)
    stop(stopped, risk, TODAY)
    ended = create(offers_defn(kind="reminder", name="Short", ends_on=TODAY + timedelta(days=1),
                               settings={"a": {"template": "standard"},
                                         "b": {"template": "short"}}), risk, TODAY)
    upcoming = create(offers_defn(profile="us", starts_on=TODAY + timedelta(days=5)), risk,
                      TODAY)
    db.session.commit()
    late_cn = make_account(oldest_unpaid_due_date=OVERDUE)
    late_us = make_account(currency="USD", profile="us", oldest_unpaid_due_date=OVERDUE)
    db.session.commit()
    _run(runner, "--as-of", (TODAY + timedelta(days=2)).isoformat())
    assert arms_of(stopped) == {} and arms_of(ended) == {}
    assert set(arms_of(upcoming)) == {late_us.id}
    assert late_cn.id not in arms_of(upcoming)


def test_the_job_is_on_the_schedule_before_the_reminders():
    from portal.tasks.schedule import SCHEDULE

    task, when, command = SCHEDULE["experiment-assignment"]
    assert (task, command) == ("portal.experiment_assignment", "jobs experiments")
    assert when.minute == {10} and SCHEDULE["reminders"][1].minute == {15}


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_two_runs_at_once_assign_each_account_once(app, make_staff, make_account):
    [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(2)]
    experiment = create(offers_defn(), make_staff("risk"), TODAY)
    db.session.commit()
    late = [make_account() for _ in range(40)]
    for account in late:
        account.oldest_unpaid_due_date = OVERDUE
    db.session.commit()
    experiment_id = experiment.id

    def work(_i):
        assigned = assign_new(TODAY)["assigned"]
        threading.Event().wait(0.3)  # hold the transaction open while the other runs
        return assigned

    results, errors = run_together(app, work, 2)
    assert errors == []
    assert sorted(results) == [0, 40]
    db.session.expire_all()
    experiment = db.session.get(Experiment, experiment_id)
    arms = arms_of(experiment)
    assert len(arms) == 42
    assert db.session.scalar(select(func.count()).select_from(ExperimentAssignment)) == 42
    assert arms == {i: arm_for(experiment.salt, i, experiment.challenger_percent) for i in arms}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "experiments.assigned")) == 1
