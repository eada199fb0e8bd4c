"""Registries are wired by one call that every entry point makes, never by import side effects:
a job worker that imports only the nightly job sees every pause the web app sees."""
import json
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from portal.accounts.models import Cardholder
from portal.auth import session as auth_session
from portal.care import services as care
from portal.consequences import pauses, services as consequences
from portal.contact import batch as contact_batch, delivery as contact_delivery
from portal.core import nav
from portal.disputes import holds
from portal.extensions import db as _db
from portal.jobs.correction_timeline import correction_items_for
from portal.legal.timeline import legal_items_for
from portal.outbox import services as outbox
from portal.plans.timeline import plan_change_items_for
from portal.outbox.models import MessageKind
from portal.policy import routes as policy_routes, rules as policy_rules
from portal.staff import account_context, routes as staff_routes
from portal.staff.models import Role, StaffUser
from tests.clock import child_environ, run_child
from tests.integration.plan_helpers import TODAY, agree
from tests.integration.test_dispute_hold import DUE, _raise

ROOT = Path(__file__).resolve().parents[2]

# A worker process: the nightly job, the wiring call and a database; no create_app, no blueprints.
BARE_WORKER = """
import json, os, sys
from datetime import date
from flask import Flask
from sqlalchemy import select
import portal.jobs.nightly as nightly
from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.config import config_class
from portal.consequences.pauses import pause_checker
from portal.extensions import db
from portal.timeutil import set_now
set_now(os.environ.get("PORTAL_NOW"))  # the test's moment, as create_app would set it
settings = json.loads(sys.argv[1])
if settings["wire"]:
    from portal.wiring import wire
    wire()
app = Flask("worker")
app.config.from_object(config_class())
app.config.update(settings["config"])
db.init_app(app)
with app.app_context():
    accounts = db.session.scalars(select(Account).order_by(Account.id)).all()
    paused = pause_checker(accounts)
    reasons = {a.id: getattr(paused(a, date.fromisoformat(settings["day"])), "reason", None)
               for a in accounts}
    nightly.run_nightly(date.fromisoformat(settings["run_to"]))
    fees = db.session.scalars(select(LedgerEntry.account_id).where(
        LedgerEntry.kind == EntryKind.FEE, LedgerEntry.source_ref.like("nightly:%"))).all()
from portal.consequences.services import _ITEM_SOURCES
from portal.contact.batch import _HOLDS
names = lambda fns: [f"{f.__module__}.{f.__name__}" for f in fns]
print(json.dumps({"reasons": reasons, "fees": sorted(set(fees)), "holds": names(_HOLDS),
                  "timeline": names(_ITEM_SOURCES)}))
"""


def _bare_worker(app, *, wire: bool, day: date, run_to: date) -> dict:
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "OUTBOX_DIR", "UPLOAD_DIR",
                                         "SECRET_KEY")}
    settings = {"wire": wire, "config": config, "day": day.isoformat(),
                "run_to": run_to.isoformat()}
    env = child_environ(PYTHONPATH=str(ROOT))  # the worker runs at the test's moment
    done = run_child([sys.executable, "-c", BARE_WORKER, json.dumps(settings)], cwd=ROOT,
                     env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_bare_worker_sees_the_plan_and_dispute_pauses_and_escalates_neither(
        app, db, make_account):
    disputed = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                            effective=DUE)
    _raise(disputed)
    on_plan = make_account(principal=500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    with app.test_request_context():
        agree(on_plan)
        _db.session.commit()

    seen = _bare_worker(app, wire=True, day=TODAY, run_to=date(2026, 11, 10))

    assert seen["reasons"] == {str(disputed.id): "dispute", str(on_plan.id): "plan"}
    assert disputed.id not in seen["fees"]  # the dispute holds escalation in the worker too
    assert seen["holds"] == ["portal.disputes.holds.accounts_on_hold",
                             "portal.care.services.accounts_on_hold"]
    assert seen["timeline"] == ["portal.legal.timeline.legal_items_for",
                                "portal.jobs.correction_timeline.correction_items_for",
                                "portal.plans.timeline.plan_change_items_for"]


def test_without_the_wiring_call_a_worker_would_see_no_pause(app, db, make_account):
    # The bug this wiring fixes: providers used to register only when blueprints imported them.
    disputed = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                            effective=DUE)
    _raise(disputed)

    seen = _bare_worker(app, wire=False, day=TODAY, run_to=date(2026, 11, 10))

    assert seen["reasons"] == {str(disputed.id): None}
    assert seen["fees"] == [disputed.id]
    assert seen["holds"] == [] and seen["timeline"] == []


def test_the_web_app_is_wired_with_every_registry(app):
    names = [f"{p.__module__}.{p.__name__}" for p in pauses._providers]
    assert names == ["portal.disputes.holds.hold_pause", "portal.plans.services.plan_pause",
                     "portal.collections.promises.promise_pause", "portal.care.services.care_pause"]
    assert {"payments", "contact", "promises", "care"} <= set(policy_rules._SECTION_CHECKS)
    assert auth_session._USER_KINDS == {"c": Cardholder, "s": StaffUser}
    assert auth_session._KEPT_ACROSS_SIGN_IN == {"locale", "one_tap"}  # the one-tap grant
    assert contact_batch._HOLDS == [holds.accounts_on_hold, care.accounts_on_hold]
    assert outbox._rules == [contact_delivery.RULES]
    assert [f"{p.__module__}.{p.__name__}" for p in policy_routes._previews] == [
        "portal.consequences.preview.preview_change"]
    assert consequences._ITEM_SOURCES == [legal_items_for, correction_items_for,
                                          plan_change_items_for]
    assert {e.endpoint for e in nav._CARDHOLDER} >= {"accounts.dashboard", "payments.pay_start",
                                                     "plans.index", "disputes.index"}
    assert {"legal.index", "policy.index", "plan_review.queue"} <= {e.endpoint for e in nav._STAFF}
    assert [f"{f.__module__}.{f.__name__}" for f in account_context._sections] == [
        "portal.plans.services.staff_context_section",
        "portal.payments.staff_list.staff_context_section",
        "portal.consequences.services.staff_context_section",
        "portal.disputes.context.staff_context_section",
        "portal.care.services.staff_summary",
        "portal.links.services.staff_context_section",
    ]
    assert {role: f"{v.__module__}.{v.__name__}" for role, v in staff_routes._home_views.items()} \
        == {Role.LEGAL: "portal.legal.routes.index"}


def test_the_staff_account_context_has_every_features_section(app, db, make_account):
    """Staff's own parts (balance, ledger) and each registered feature's part, as one dict."""
    account = make_account()
    context = account_context.account_context(account, TODAY)
    assert set(context) == {"account", "balance", "ledger", "plans", "payments",
                            "payment_status_labels", "instalment_payments", "notices", "disputes", "care",
                            "message_outcomes", "message_outcome_labels"}
    assert context["account"] is account and context["ledger"]


def test_wiring_twice_adds_nothing_twice(app):
    from portal.wiring import wire

    before = (list(pauses._providers), list(nav._CARDHOLDER), list(nav._STAFF))
    wire()
    assert (list(pauses._providers), list(nav._CARDHOLDER), list(nav._STAFF)) == before


def test_an_outbox_without_the_contact_rules_sends_no_service_or_collection_message(
        app, db, make_cardholder, monkeypatch):
    """A process that forgot `wire()` must not queue a collection message unchecked (no
    opt-out, cap or hold applied); transactional messages need no contact rules."""
    holder = make_cardholder()
    monkeypatch.setattr(outbox, "_rules", [])
    sent = outbox.queue_email("a@example.com", "Code", "123456", purpose="code",
                              cardholder_id=holder.id)
    assert sent.not_before is not None and sent.suppressed_at is None
    for kind in (MessageKind.SERVICE, MessageKind.COLLECTION):
        with pytest.raises(RuntimeError, match="wiring"):
            outbox.queue_email("a@example.com", "Reminder", "Please pay", purpose="reminder",
                               cardholder_id=holder.id, kind=kind)
    with pytest.raises(RuntimeError, match="wiring"):
        outbox.deliver_due()
