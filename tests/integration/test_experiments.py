"""Champion and challenger: risk defines an experiment on the page, accounts are assigned and
stay in their arm, the offers page and the due-soon reminder follow the arm, the report's
numbers match a hand count, every change is audited, and hostile input is refused calmly."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.consequences.models import StageChange
from portal.experiments.models import Experiment, ExperimentAssignment, ExperimentImmutable
from portal.experiments.report import report
from portal.experiments.rules import Definition
from portal.experiments.services import ExperimentError, create, stop
from portal.extensions import db
from tests.clock import TODAY
from tests.helpers import post_form
from tests.integration.collections_helpers import make_plan, pay
from tests.integration.plan_helpers import agree

OVERDUE = date(2026, 10, 25)
NEW = "/staff/risk/experiments/new"


def offers_defn(**changes):
    base = dict(name="Four payments", kind="offers", profile="cn", starts_on=TODAY,
                ends_on=TODAY + timedelta(days=60), challenger_percent=50,
                arm_names={"a": "Champion", "b": "Four payments"},
                settings={"a": {"counts": [3, 6, 12], "first_due_days": 7},
                          "b": {"counts": [4], "first_due_days": 14}})
    base.update(changes)
    return Definition(**base)


def arms_of(experiment) -> dict[int, str]:
    return dict(db.session.execute(select(ExperimentAssignment.account_id, ExperimentAssignment.arm)
                                   .where(ExperimentAssignment.experiment_id == experiment.id)).all())


def form(**changes):
    data = {"name": "Short reminder", "kind": "reminder", "profile": "cn",
            "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=30)).isoformat(),
            "challenger_percent": "50", "a_name": "Standard", "b_name": "Short",
            "a_template": "standard", "b_template": "short", "a_counts": "", "b_counts": ""}
    data.update(changes)
    return data


def test_risk_defines_an_experiment_and_overdue_accounts_of_the_profile_are_assigned(
        app, login_as, make_staff, make_account):
    late = [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(6)]
    up_to_date = make_account()
    other_profile = make_account(currency="USD", profile="us", oldest_unpaid_due_date=OVERDUE)
    client = login_as(app.test_client(), make_staff("risk"))
    page = post_form(client, NEW, form())
    assert page.status_code == 302
    experiment = db.session.scalar(select(Experiment))
    arms = arms_of(experiment)
    assert set(arms) == {a.id for a in late}
    assert up_to_date.id not in arms and other_profile.id not in arms
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "experiments.created"))
    assert event is not None
    shown = client.get(f"/staff/risk/experiments/{experiment.id}").get_data(as_text=True)
    assert "Short reminder" in shown and "Wilson" in shown


def test_an_account_stays_in_its_arm_and_the_definition_cannot_change(make_staff, make_account):
    accounts = [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(4)]
    experiment = create(offers_defn(), make_staff("risk"), TODAY)
    db.session.commit()
    before = arms_of(experiment)
    assert len(before) == len(accounts)
    experiment.challenger_percent = 90
    with pytest.raises(ExperimentImmutable):
        db.session.flush()
    db.session.rollback()
    row = db.session.scalar(select(ExperimentAssignment))
    row.arm = "b" if row.arm == "a" else "a"
    with pytest.raises(ExperimentImmutable):
        db.session.flush()
    db.session.rollback()
    assert arms_of(experiment) == before


def test_a_second_experiment_of_the_same_kind_on_the_same_dates_is_refused(make_staff):
    risk = make_staff("risk")
    create(offers_defn(), risk, TODAY)
    with pytest.raises(ExperimentError) as refused:
        create(offers_defn(starts_on=TODAY + timedelta(days=10)), risk, TODAY)
    assert ("starts_on", "overlap") in refused.value.errors


def _one_in_each_arm(make_account, experiment_factory):
    """Accounts until each arm has one: (experiment, champion account, challenger account)."""
    accounts = [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(12)]
    experiment = experiment_factory()
    arms = arms_of(experiment)
    a = next(x for x in accounts if arms[x.id] == "a")
    b = next(x for x in accounts if arms[x.id] == "b")
    return experiment, a, b


def test_the_offers_page_shows_the_offers_of_the_accounts_arm(app, login_as, make_staff,
                                                             make_account):
    risk = make_staff("risk")
    experiment, a, b = _one_in_each_arm(make_account, lambda: create(offers_defn(), risk, TODAY))
    db.session.commit()

    def offers(account):
        client = login_as(app.test_client(), account.cardholder)
        return client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)

    champion, challenger = offers(a), offers(b)
    assert "3 payments of" in champion and "6 payments of" in champion
    assert "4 payments of" not in champion
    assert "4 payments of" in challenger and "3 payments of" not in challenger
    assert "12 payments of" in challenger  # the envelope's longest plan is always offered
    first = (TODAY + timedelta(days=14)).isoformat()
    assert f"first_date={first}" in challenger
    stop(experiment, risk, TODAY)
    db.session.commit()
    assert "3 payments of" in offers(b)  # stopped: the profile's offers again


def test_the_due_soon_reminder_uses_the_wording_of_the_arm(clock, runner, make_staff,
                                                         make_account, outbox):
    risk = make_staff("risk")
    experiment, a, b = _one_in_each_arm(make_account, lambda: create(offers_defn(
        kind="reminder", name="Short reminder",
        settings={"a": {"template": "standard"}, "b": {"template": "short"}}), risk, TODAY))
    agree(a)
    agree(b)
    db.session.commit()
    clock.move_to(datetime(2026, 12, 2, 4, tzinfo=timezone.utc))  # 3 days before the 5th
    result = runner.invoke(args=["jobs", "reminders", "--now", clock.now().isoformat()])
    assert "payments due soon 2" in result.output, result.output
    mails = {m["to"]: m for m in outbox() if "due" in m["subject"]}
    assert mails[a.cardholder.email]["subject"] == "A payment under your plan is due soon"
    short = mails[b.cardholder.email]
    assert short["subject"] == "Plan payment due December 5, 2026"
    assert short["body"].startswith("Pay CN¥") and "/l/" in short["body"]  # a one-tap link


def test_the_report_matches_a_hand_count(make_staff, make_account):
    risk = make_staff("risk")
    experiment, a, b = _one_in_each_arm(make_account, lambda: create(offers_defn(), risk, TODAY))
    arms = arms_of(experiment)
    n_a = sum(1 for arm in arms.values() if arm == "a")
    n_b = len(arms) - n_a
    d = lambda n: TODAY + timedelta(days=n)  # noqa: E731
    make_plan(a, "active", started_on=d(2))                    # champion: agreed and kept
    make_plan(b, "broken", started_on=d(3))                    # challenger: agreed, broken
    make_plan(b, "active", started_on=d(20), missed=True)      # challenger: behind
    pay(a, 1_000, d(5))                                        # within 30 days
    pay(b, 1_000, d(31))                                       # day 31: too late
    db.session.add(StageChange(account_id=b.id, changed_on=d(40), from_stage="m1",
                               to_stage="current", days_late=0, policy_version=1))
    db.session.commit()
    r = report(experiment, d(45))
    rows = {row.key: row for row in r.rows}
    assert r.accounts == {"a": n_a, "b": n_b}
    got = {key: {arm: (rows[key].arms[arm].count, rows[key].arms[arm].total) for arm in "ab"}
           for key in rows}
    assert got == {"plan_agreed": {"a": (1, n_a), "b": (1, n_b)},
                   "plans_kept": {"a": (1, 1), "b": (0, 2)},
                   "paid_30_days": {"a": (1, n_a), "b": (0, n_b)},
                   "cured": {"a": (0, n_a), "b": (1, n_b)}}
    kept = rows["plans_kept"]
    assert kept.arms["a"].estimate.value == 1.0 and kept.arms["b"].estimate.value == 0.0
    assert kept.difference.value == -1.0
    assert report(experiment, d(-1)).last_day is None  # before the start: nothing counted


def test_stopping_is_audited_and_happens_once(app, login_as, make_staff, make_account):
    risk = make_staff("risk")
    experiment = create(offers_defn(), risk, TODAY)
    db.session.commit()
    client = login_as(app.test_client(), risk)
    path = f"/staff/risk/experiments/{experiment.id}"
    assert post_form(client, f"{path}/stop", form_page=path).status_code == 302
    db.session.refresh(experiment)
    assert experiment.stopped_on == TODAY
    again = post_form(client, f"{path}/stop", form_page=path, follow_redirects=True)
    assert "already been stopped" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "experiments.stopped")) == 1


@pytest.mark.parametrize("changes", [
    {"name": "a\x00b"}, {"name": "x" * 500}, {"kind": "price"}, {"profile": "zz"},
    {"starts_on": "2026-02-30"}, {"starts_on": "2020-01-01"}, {"ends_on": "1999-01-01"},
    {"starts_on": "9999-12-31", "ends_on": "9999-12-31"}, {"ends_on": "9999-12-31"},
    {"challenger_percent": "abc"}, {"challenger_percent": "100"}, {"challenger_percent": "9" * 40},
    {"kind": "offers", "a_counts": "1e9", "b_counts": "4"},
    {"kind": "offers", "a_counts": "3", "b_counts": "4", "a_first_due_days": "-1"},
    {"kind": "offers", "a_counts": "3", "b_counts": "3", "a_first_due_days": "7",
     "b_first_due_days": "7"},
    {"a_template": "evil"}, {"b_template": "standard"}])
def test_hostile_definitions_are_refused_beside_the_field(app, login_as, make_staff, changes):
    client = login_as(app.test_client(), make_staff("risk"))
    page = post_form(client, NEW, form(**changes))
    assert page.status_code in (400, 422)
    assert db.session.scalar(select(func.count(Experiment.id))) == 0


def test_a_missing_experiment_is_not_found(app, login_as, make_staff):
    client = login_as(app.test_client(), make_staff("collections_manager"))
    assert client.get("/staff/risk/experiments/999999").status_code == 404
    assert client.get("/staff/risk/experiments/99999999999999").status_code == 404


def test_report_statements_do_not_grow_with_the_arms(make_staff, make_account):
    from tests.integration.test_collections_reports import _queries

    risk = make_staff("risk")
    small = [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(3)]
    first = create(offers_defn(), risk, TODAY)
    for account in small:
        make_plan(account, "active", started_on=TODAY)
    db.session.commit()
    three = _queries(lambda: report(first, TODAY + timedelta(days=5)))
    stop(first, risk, TODAY)
    big = [make_account(oldest_unpaid_due_date=OVERDUE) for _ in range(30)]
    second = create(offers_defn(starts_on=TODAY + timedelta(days=1)), risk, TODAY)
    for account in big:
        make_plan(account, "active", started_on=TODAY + timedelta(days=2))
    db.session.commit()
    thirty = _queries(lambda: report(second, TODAY + timedelta(days=5)))
    assert report(second, TODAY + timedelta(days=5)).rows[0].arms["a"].count + report(
        second, TODAY + timedelta(days=5)).rows[0].arms["b"].count == 30
    assert three == thirty <= 6  # five grouped queries, and the experiment row re-read after a commit
