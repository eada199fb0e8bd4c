"""Cross-feature facts travel as named events with typed payloads (portal.events), sent in
the emitter's transaction; plans react to payments only through them."""
import re
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from portal import events
from portal.balances.services import today_for
from portal.disputes import services as disputes
from portal.extensions import db
from portal.legal import services as legal
from portal.plans import endings
from portal.plans.models import PlanStatus
from tests.integration.payment_helpers import (make_active_plan, only_payment, pay_with_card,
                                               start_payment)
from tests.integration.payment_helpers import account  # noqa: F401  (fixture)
from tests.integration.plan_helpers import TODAY, agree
from tests.integration.test_dispute_hold import DUE, _raise


@contextmanager
def heard(event, keep=lambda payload: payload):
    """The payloads of `event` sent while the block runs (what `keep` takes of each)."""
    payloads = []

    def listener(payload):
        payloads.append(keep(payload))

    with event.connected_to(listener):
        yield payloads


def test_a_posted_payment_is_announced_and_the_plan_applies_it(client, account):  # noqa: F811
    plan = make_active_plan(account, [50_000, 50_000], today_for(account))
    start_payment(client, account, "instalment")
    payment = only_payment(account.id)
    # The request's session closes with it: keep what the payload said while it was open.
    with heard(events.payment_posted,
               lambda p: (type(p), p.payment_id, p.amount, p.account.id)) as posted:
        pay_with_card(client, payment.id)
    db.session.expire_all()
    assert posted == [(events.PaymentPosted, payment.id, 50_000, account.id)]
    assert plan.instalments[0].status.value == "paid"
    assert only_payment(account.id).plan_application == [[plan.instalments[0].id, 50_000]]


def test_opening_and_withdrawing_a_dispute_are_announced(db, make_account):
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    with heard(events.dispute_opened) as opened, heard(events.dispute_closed) as closed:
        dispute = _raise(account)
        disputes.withdraw(dispute, account.cardholder)
    assert opened == [events.DisputeOpened(account, dispute.id, "already_paid", contesting=True)]
    assert closed == [events.DisputeClosed(account, dispute.id, "withdrawn")]


def test_recording_a_legal_step_is_announced(db, make_account, make_staff):
    account = make_account(principal=500_000, oldest_unpaid_due_date=DUE, effective=DUE)
    with heard(events.legal_step_recorded) as recorded:
        action = legal.record_action(account, make_staff("legal"), legal.StepInput(
            kind="claim_filed", occurred_on=date(2026, 11, 20)), date(2026, 11, 28))
    assert recorded == [events.LegalStepRecorded(account, action.id, "claim_filed",
                                                 date(2026, 11, 20))]


def test_breaking_a_plan_is_announced(app, db, make_account):
    account = make_account(principal=500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    with app.test_request_context():
        plan = agree(account)
        with heard(events.plan_broken) as broken:
            endings.break_plan(plan, TODAY + timedelta(days=40))
    assert plan.status == PlanStatus.BROKEN
    assert broken == [events.PlanBroken(account, plan.id, TODAY + timedelta(days=40))]


def test_a_listener_that_fails_fails_the_emitter():
    def failing(_payload):
        raise RuntimeError("listener failed")

    with events.plan_broken.connected_to(failing):
        try:
            events.emit(events.plan_broken, None)
        except RuntimeError as exc:
            assert str(exc) == "listener failed"
        else:
            raise AssertionError("the listener's failure was swallowed")


EVENTS = ("payment_posted", "payment_reversed", "plan_broken", "dispute_opened",
          "dispute_closed", "legal_step_recorded")
DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _documented_listeners() -> dict[str, set[str]]:
    """Event name -> the listeners docs/architecture.md names (in the transaction, then after
    the commit: the table's last two columns)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`(\w+)` \(.*", cells[0]) if len(cells) == 4 else None
        if name and name.group(1) in EVENTS:
            rows[name.group(1)] = {f"portal.{n}" for cell in cells[2:]
                                   for n in re.findall(r"`((?:\w+\.)+on_\w+)`", cell)}
    return rows


def test_the_layering_document_names_every_listener_the_wiring_connects(app):
    """Every event has a row in docs/architecture.md, and the row names exactly the listeners
    that portal.wiring connected (none for an event nothing reacts to)."""
    documented = _documented_listeners()
    assert set(documented) == set(EVENTS)
    for name in EVENTS:
        receivers = getattr(events, name).receivers.values()
        wired = {f"{r.__module__}.{r.__qualname__}" for r in receivers}
        assert wired == documented[name], name
