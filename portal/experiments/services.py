"""Create and stop experiments, assign accounts to arms, and tell the product which arm's
settings apply to an account. Services add and flush; the route commits. Every change is
audited (`experiments.created`, `experiments.stopped`)."""
from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import or_, select

from portal.accounts.models import Account
from portal.audit.services import record
from portal.experiments.assignment import assign
from portal.experiments.models import Experiment, ExperimentAssignment
from portal.experiments.rules import ARMS, Definition, check
from portal.extensions import db
from portal.policy.services import all_profiles

class ExperimentError(Exception):
    """A definition or a change the rules refuse: `errors` are (field, code) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(", ".join(f"{f}: {c}" for f, c in errors))
        self.errors = errors


def _overlapping(defn: Definition):
    """Another experiment on the same profile and kind whose dates meet these."""
    return db.session.scalar(select(Experiment.id).where(
        Experiment.profile == defn.profile, Experiment.kind == defn.kind,
        Experiment.starts_on <= defn.ends_on, Experiment.ends_on >= defn.starts_on,
        or_(Experiment.stopped_on.is_(None), Experiment.stopped_on > defn.starts_on)).limit(1))


def create(defn: Definition, by, today: date) -> Experiment:
    """Record the experiment and assign every open account of the profile with something
    overdue today to an arm at random (stored; an account stays in its arm). Accounts that
    become overdue later are added by the assignment job (`assignment.assign_new`). Raises
    ExperimentError for a definition the rules refuse or one that overlaps another
    experiment of the same profile and kind."""
    errors = check(defn, today, all_profiles())
    if not errors and _overlapping(defn):
        errors.append(("starts_on", "overlap"))
    if errors:
        raise ExperimentError(errors)
    experiment = Experiment(
        name=defn.name.strip(), kind=defn.kind, profile=defn.profile,
        a_name=defn.arm_names["a"].strip(), b_name=defn.arm_names["b"].strip(),
        a_settings=defn.settings["a"], b_settings=defn.settings["b"],
        challenger_percent=defn.challenger_percent, starts_on=defn.starts_on,
        ends_on=defn.ends_on, salt=secrets.token_hex(32), created_by_id=by.id)
    db.session.add(experiment)
    db.session.flush()
    counts = assign(experiment, today)
    record("experiments.created", subject=experiment, after={
        "name": experiment.name, "kind": experiment.kind, "profile": experiment.profile,
        "arms": {arm: {"name": experiment.arm_name(arm), "settings": experiment.settings(arm),
                       "accounts": counts[arm]} for arm in ARMS},
        "challenger_percent": experiment.challenger_percent,
        "starts_on": experiment.starts_on.isoformat(), "ends_on": experiment.ends_on.isoformat()})
    return experiment


def stop(experiment: Experiment, by, today: date) -> None:
    """End the experiment today (its arms no longer apply from today); once."""
    if experiment.stopped_on is not None:
        raise ExperimentError([("stop", "already_stopped")])
    if today > experiment.ends_on:
        raise ExperimentError([("stop", "already_ended")])
    experiment.stopped_on, experiment.stopped_by_id = max(today, experiment.starts_on), by.id
    db.session.flush()
    record("experiments.stopped", subject=experiment, before={"stopped_on": None},
           after={"stopped_on": experiment.stopped_on.isoformat()})


def experiments() -> list[Experiment]:
    return list(db.session.scalars(select(Experiment).order_by(Experiment.id.desc())))


def _running_on(day: date):
    return (Experiment.starts_on <= day, Experiment.ends_on >= day,
            or_(Experiment.stopped_on.is_(None), Experiment.stopped_on > day))


def arm_settings(account_ids, kind: str, day: date) -> dict[int, dict]:
    """{account id: the settings of its arm} for the accounts in an experiment of `kind`
    running on `day` (one query whatever the number of accounts)."""
    ids = list(account_ids)
    if not ids:
        return {}
    found: dict[int, dict] = {}
    for account_id, arm, a, b in db.session.execute(
            select(ExperimentAssignment.account_id, ExperimentAssignment.arm,
                   Experiment.a_settings, Experiment.b_settings)
            .join(Experiment, Experiment.id == ExperimentAssignment.experiment_id)
            .where(ExperimentAssignment.account_id.in_(ids), Experiment.kind == kind,
                   *_running_on(day))
            .order_by(Experiment.id)):
        found[account_id] = a if arm == "a" else b
    return found


def offer_variant(account: Account, today: date) -> dict | None:
    """The ready-made offer settings of the account's arm in a running offers experiment
    (`counts`, `first_due_days`), or None. Registered with plans by portal.wiring."""
    return arm_settings([account.id], "offers", today).get(account.id)


def reminder_templates(account_ids, day: date) -> dict[int, str]:
    """{account id: the reminder wording of its arm} in running reminder experiments."""
    return {a: s["template"] for a, s in arm_settings(account_ids, "reminder", day).items()}
