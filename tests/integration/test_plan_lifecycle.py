"""Plan lifecycle on the database: every transition, payments, monitoring, ledger effects."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.balances.services import balance_of
from portal.consequences.pauses import escalation_pause
from portal.domain.statemachine import IllegalTransition
from portal.extensions import db as _db
from portal.plans import decisions, endings, lifecycle, services
from portal.plans.jobs import run_plan_monitoring
from portal.plans.models import InstalmentStatus, PlanStatus
from tests.integration.plan_helpers import TODAY, agree, consent_for, spec


@pytest.fixture()
def account(make_account):
    return make_account(principal=500_000, interest=20_000, fees=15_000,
                        oldest_unpaid_due_date=TODAY - timedelta(days=40))


def actions(plan):
    return [e.action for e in _db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "plan",
                                 AuditEvent.subject_id == str(plan.id)).order_by(AuditEvent.id))]


def test_plan_inside_envelope_is_active_at_once_and_pauses_escalation(app, account, outbox):
    with app.test_request_context():
        plan = agree(account)
        _db.session.commit()
    assert plan.status == PlanStatus.ACTIVE and plan.started_on == TODAY
    assert sum(i.amount for i in plan.instalments) == plan.total == 535_000
    assert plan.terms_hash and plan.accepted_ip == "203.0.113.9" and plan.policy_version == 1
    assert actions(plan) == ["plan.proposed", "plan.auto_approved"]
    assert services.active_plan(account) is plan
    pause = escalation_pause(account, TODAY)
    assert pause.reason == "plan" and pause.reference == str(plan.id)
    assert [m["subject"] for m in outbox()] == ["Your repayment plan is agreed"]


def test_proposal_beyond_envelope_goes_to_review(app, account):
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
    assert plan.status == PlanStatus.IN_REVIEW
    assert plan.review_reasons[0]["code"] == "too_many_instalments"
    assert services.active_plan(account) is None
    assert escalation_pause(account, TODAY) is None


def test_refused_proposal_raises_with_the_reason(app, account):
    with app.test_request_context(), pytest.raises(lifecycle.PlanError) as caught:
        agree(account, spec(count=61))
    assert caught.value.code == "refused"
    assert caught.value.decision.reasons[0].code == "too_many_instalments"


def test_tampered_hash_is_refused(app, account):
    with app.test_request_context():
        consent = consent_for(account, spec(count=3))
        with pytest.raises(lifecycle.PlanError) as caught:
            lifecycle.submit(account, spec(count=6), consent, source="offer", today=TODAY)
    assert caught.value.code == "terms_changed"


def test_second_active_plan_is_refused(app, account):
    with app.test_request_context():
        agree(account)
        with pytest.raises(lifecycle.PlanError) as caught:
            agree(account, spec(count=3))
    assert caught.value.code == "already_active"


def test_payments_complete_plan_and_post_concession_waivers(app, make_account):
    account = make_account(currency="USD", profile="us", principal=200_000, fees=4_000)
    with app.test_request_context():
        plan = agree(account, spec(count=3, fees_waived=True))
        assert plan.fees_waived == 4_000 and plan.total == 200_000
        first = services.next_instalment(account)
        applied = services.apply_payment(account, 70_000, TODAY)
        assert applied == [(first.id, first.amount), (plan.instalments[1].id, 70_000 - first.amount)]
        _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                                    component="principal", amount=-200_000, currency="USD",
                                    effective_date=TODAY, source_ref="pay-1"))
        services.apply_payment(account, 130_000, TODAY)
        assert plan.status == PlanStatus.COMPLETED
        waivers = _db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.kind == EntryKind.WAIVER)).all()
        assert sum(w.amount for w in waivers) == -4_000
        assert balance_of(account, TODAY).total == 0
        # A chargeback of the last payment reopens the plan and reverses the waiver.
        services.reverse_payment(account, [(plan.instalments[2].id, 66_667)])
        assert plan.status == PlanStatus.ACTIVE
        assert plan.instalments[2].status != InstalmentStatus.PAID
        assert balance_of(account).total == 4_000  # as of the real today, the reversal date


def test_nightly_marks_missed_then_breaks_after_grace_days(app, account, outbox):
    with app.test_request_context():
        plan = agree(account)
        _db.session.commit()
    due = plan.instalments[0].due_date
    summary = run_plan_monitoring(due + timedelta(days=1))
    assert summary.missed == 1 and summary.broken == []
    assert plan.instalments[0].status == InstalmentStatus.MISSED
    assert run_plan_monitoring(due + timedelta(days=1)).missed == 0  # idempotent
    summary = run_plan_monitoring(due + timedelta(days=plan.grace_days + 1))
    assert summary.broken == [plan.id]
    assert plan.status == PlanStatus.BROKEN and plan.broken_on == due + timedelta(days=11)
    assert escalation_pause(account, due + timedelta(days=12)) is None
    assert "Your repayment plan has ended" in [m["subject"] for m in outbox()]
    # Cooling-off: a new plan is refused for the policy's days.
    decision, _ = lifecycle.evaluate(account, spec(first_date=due + timedelta(days=15)),
                                     due + timedelta(days=12))
    assert decision.reasons[0].code == "cooling_off"


def test_counter_offer_accepted_becomes_active(app, account, make_staff):
    collector = make_staff("collector")
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        decisions.counter(plan, collector, spec(count=18), TODAY, "A shorter plan fits better.")
        assert plan.status == PlanStatus.COUNTERED and plan.instalment_count == 18
        consent = lifecycle.Consent(lifecycle.plan_hash(plan, "en"), "en", None, None,
                                    plan.created_at)
        decisions.accept_counter(plan, consent, TODAY)
    assert plan.status == PlanStatus.ACTIVE
    assert actions(plan)[-2:] == ["plan.countered", "plan.counter_accepted"]


def test_collector_cannot_approve_beyond_authority(app, account, make_staff):
    collector, manager = make_staff("collector"), make_staff("collections_manager")
    with app.test_request_context():
        plan = agree(account, spec(count=48), source="proposal")
        assert plan.required_role == "collections_manager"
        with pytest.raises(lifecycle.PlanError) as caught:
            decisions.approve(plan, collector, TODAY)
        assert caught.value.code == "beyond_authority"
        decisions.approve(plan, manager, TODAY)
    assert plan.status == PlanStatus.ACTIVE


def test_reject_and_illegal_transition(app, account, make_staff):
    collector = make_staff("collector")
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        decisions.reject(plan, collector, "Please send proof of income.")
        assert plan.status == PlanStatus.REJECTED
        with pytest.raises(IllegalTransition):
            endings.cancel(plan, TODAY)


def test_cancel_active_plan_resumes_escalation(app, account):
    with app.test_request_context():
        plan = agree(account)
        endings.cancel(plan, TODAY)
    assert plan.status == PlanStatus.CANCELLED
    assert escalation_pause(account, TODAY) is None


def test_cardholder_withdraws_proposal_and_declines_counter(app, account, make_staff):
    collector = make_staff("collector")
    with app.test_request_context():
        first = agree(account, spec(count=24), source="proposal")
        endings.cancel(first, TODAY)
        assert first.status == PlanStatus.CANCELLED
        second = agree(account, spec(count=24), source="proposal")
        decisions.counter(second, collector, spec(count=18), TODAY, "Shorter.")
        endings.cancel(second, TODAY, "plan.counter_declined")
    assert second.status == PlanStatus.CANCELLED
    assert actions(second)[-1] == "plan.counter_declined"


def test_transition_table_allows_only_listed_moves():
    from portal.plans.models import PLAN_MACHINE

    assert PLAN_MACHINE.allowed_from(PlanStatus.ACTIVE) == {
        PlanStatus.COMPLETED, PlanStatus.BROKEN, PlanStatus.CANCELLED}
    for terminal in (PlanStatus.BROKEN, PlanStatus.CANCELLED, PlanStatus.REJECTED):
        assert PLAN_MACHINE.allowed_from(terminal) == frozenset()
    with pytest.raises(IllegalTransition):
        PLAN_MACHINE.check(PlanStatus.COUNTERED, PlanStatus.IN_REVIEW)


def test_the_nightly_command_checks_plans_before_escalating(app, runner, account):
    with app.test_request_context():
        plan = agree(account)
        _db.session.commit()
    past_grace = plan.instalments[0].due_date + timedelta(days=plan.grace_days + 1)
    result = runner.invoke(args=["jobs", "nightly", "--as-of", past_grace.isoformat()])
    assert result.exit_code == 0, result.output
    assert "plans broken 1" in result.output
    assert _db.session.get(type(plan), plan.id).status == PlanStatus.BROKEN
