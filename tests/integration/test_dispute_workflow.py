"""Working a dispute: every staff action, the ledger credit, approval, hold and outbox."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.balances.services import balance_of
from portal.consequences.pauses import escalation_pause
from portal.disputes import services, workflow
from portal.disputes.rules import DisputeStatus as S, IllegalTransition, ResolutionRefused
from portal.disputes.services import DisputeRefused
from portal.extensions import db as _db
from tests.dispute_helpers import join, queue, raise_dispute

LATER = date(2030, 1, 1)


@pytest.fixture()
def agent(make_staff):
    staff = make_staff("customer_service")
    join("billing", staff, "en")
    join("conduct", staff, "en")
    return staff


@pytest.fixture()
def manager(make_staff):
    return make_staff("collections_manager")


def commit(fn, *args, **kwargs):
    fn(*args, **kwargs)
    _db.session.commit()


def actions():
    return [e.action for e in _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_agent_acknowledges_and_cardholder_is_told(make_account, agent, outbox):
    dispute = raise_dispute(make_account())
    commit(workflow.acknowledge, dispute, agent)
    assert dispute.status == S.ACKNOWLEDGED and dispute.acknowledged_at is not None
    assert [m["subject"] for m in outbox()][-1] == f"Your dispute D-{dispute.id}: Being reviewed"
    assert "dispute.acknowledged" in actions()


def test_first_reply_acknowledges_and_notes_stay_internal(client, login_as, make_account,
                                                          agent):
    account = make_account()
    dispute = raise_dispute(account)
    commit(workflow.staff_message, dispute, agent, "Checked with billing: wrong fee.",
           customer_visible=False)
    assert dispute.status == S.OPEN
    commit(workflow.staff_message, dispute, agent, "We are checking the fee.",
           customer_visible=True)
    assert dispute.status == S.ACKNOWLEDGED
    login_as(client, account.cardholder)
    html = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "We are checking the fee." in html
    assert "Checked with billing" not in html
    assert actions().count("dispute.note_added") == 1


def test_reply_template_goes_out_in_the_cardholders_language(make_account, make_cardholder,
                                                             make_staff):
    zh_agent = make_staff("customer_service")
    join("billing", zh_agent, "zh_Hans")
    account = make_account(make_cardholder(locale="zh_Hans"))
    dispute = raise_dispute(account)
    assert dispute.assignee_id == zh_agent.id and dispute.language == "zh_Hans"
    commit(workflow.staff_message, dispute, zh_agent, "", customer_visible=True,
           template="received")
    assert dispute.messages[-1].body.startswith("感谢您告诉我们")


def test_documents_requested_then_sent_return_it_to_the_agent(make_account, agent, outbox):
    account = make_account()
    dispute = raise_dispute(account)
    commit(workflow.request_documents, dispute, agent, "", template="need_statement")
    assert dispute.status == S.AWAITING_CUSTOMER
    assert dispute.messages[-1].customer_visible
    commit(services.customer_reply, dispute, account.cardholder, "Here it is.")
    assert dispute.status == S.ACKNOWLEDGED
    subjects = [m["subject"] for m in outbox()]
    assert subjects[-2:] == [f"Your dispute D-{dispute.id}: Waiting for information from you",
                             f"Your dispute D-{dispute.id}: Being reviewed"]


def test_upheld_posts_a_credit_to_the_contested_component_and_lifts_the_hold(
        make_account, agent, outbox):
    account = make_account(principal=500_000, fees=30_000)
    fee = [e for e in services.contestable_entries(account) if e.component.value == "fee"][0]
    dispute = raise_dispute(account, amount=None, entry_ids=[fee.id])
    assert escalation_pause(account, LATER) is not None
    commit(workflow.resolve, dispute, agent, "upheld", None, "The fee was charged in error.")
    assert dispute.status == S.RESOLVED_UPHELD and dispute.resolution_amount == 30_000
    credit = _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.source_ref.like(f"dispute:{dispute.id}:%"))).one()
    assert (credit.kind, credit.component.value, credit.amount) == (EntryKind.WAIVER, "fee",
                                                                    -30_000)
    assert balance_of(account, LATER).fees == 0
    assert escalation_pause(account, LATER) is None
    assert outbox()[-1]["subject"] == f"Your dispute D-{dispute.id}: Resolved in your favour"
    assert dispute.messages[-1].body == "The fee was charged in error."


def test_partly_upheld_adjusts_principal_by_the_smaller_amount(make_account, agent):
    account = make_account(principal=500_000)
    dispute = raise_dispute(account, amount=20_000)
    commit(workflow.resolve, dispute, agent, "partly", 5_000, "Half of one charge was wrong.")
    assert dispute.status == S.RESOLVED_PARTLY
    assert balance_of(account, LATER).principal == 495_000
    entry = _db.session.scalars(select(LedgerEntry).where(LedgerEntry.amount < 0)).one()
    assert entry.kind == EntryKind.ADJUSTMENT


def test_resolution_above_the_contested_amount_is_refused(make_account, agent):
    account = make_account()
    dispute = raise_dispute(account, amount=20_000)
    with pytest.raises(ResolutionRefused) as excinfo:
        workflow.resolve(dispute, agent, "upheld", 20_001, "Too generous.")
    assert excinfo.value.code == "above_contested"
    _db.session.rollback()
    assert balance_of(account, LATER).principal == 500_000


def test_refused_resolution_through_the_page_says_why(client, login_as, make_account, agent):
    account = make_account()
    dispute = raise_dispute(account, amount=20_000)
    login_as(client, agent)
    from tests.dispute_helpers import csrf

    token = csrf(client, f"/staff/disputes/{dispute.id}")
    client.post(f"/staff/disputes/{dispute.id}/resolve", data={
        "res-csrf_token": token, "res-outcome": "upheld", "res-amount": "200.01",
        "res-reason": "x"})
    html = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    assert "The amount is more than the contested amount." in html
    assert _db.session.get(type(dispute), dispute.id).status == S.OPEN


def test_rejection_reason_is_shown_to_the_cardholder_and_hold_lifts(client, login_as,
                                                                      make_account, agent):
    account = make_account()
    dispute = raise_dispute(account, "already_paid", amount=20_000)
    commit(workflow.resolve, dispute, agent, "rejected", None,
           "We found no payment on 3 November.")
    assert dispute.status == S.REJECTED
    assert escalation_pause(account, LATER) is None
    assert _db.session.scalars(select(LedgerEntry).where(LedgerEntry.amount < 0)).all() == []
    login_as(client, account.cardholder)
    html = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "We found no payment on 3 November." in html and "Not upheld" in html


def test_credit_above_threshold_waits_for_a_manager_then_applies(app, make_account, agent,
                                                                 manager, outbox):
    account = make_account(principal=500_000)
    dispute = raise_dispute(account, amount=150_000)
    commit(workflow.resolve, dispute, agent, "upheld", None, "Duplicate statement line.")
    assert dispute.status == S.PENDING_APPROVAL
    assert balance_of(account, LATER).principal == 500_000
    assert escalation_pause(account, LATER) is not None  # still on hold while waiting
    with pytest.raises(IllegalTransition):
        workflow.acknowledge(dispute, agent)  # only a manager sends a proposal back
    _db.session.rollback()
    commit(workflow.approve, dispute, manager)
    assert dispute.status == S.RESOLVED_UPHELD
    assert balance_of(account, LATER).principal == 350_000
    resolved = [e for e in _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "dispute.resolved"))]
    assert resolved[0].after["approved_by"] == manager.id
    assert [m["subject"].split(": ")[1] for m in outbox()][-2:] == [
        "Decision being confirmed", "Resolved in your favour"]


def test_manager_may_resolve_above_threshold_directly(make_account, manager):
    dispute = raise_dispute(make_account(), amount=150_000)
    commit(workflow.resolve, dispute, manager, "upheld", None, "Confirmed.")
    assert dispute.status == S.RESOLVED_UPHELD


def test_threshold_is_configurable(app, make_account, agent):
    app.config["DISPUTE_APPROVAL_THRESHOLD"] = 1_000
    try:
        dispute = raise_dispute(make_account(), amount=2_000)
        commit(workflow.resolve, dispute, agent, "upheld", None, "ok")
        assert dispute.status == S.PENDING_APPROVAL
    finally:
        del app.config["DISPUTE_APPROVAL_THRESHOLD"]


def test_manager_refuses_the_proposal_and_it_goes_back_to_work(make_account, agent, manager):
    dispute = raise_dispute(make_account(), amount=150_000)
    commit(workflow.resolve, dispute, agent, "upheld", None, "Duplicate.")
    commit(workflow.refuse_approval, dispute, manager, "Check the second statement first.")
    assert dispute.status == S.ACKNOWLEDGED and dispute.proposed_amount is None
    assert not dispute.messages[-1].customer_visible


def test_escalation_to_legal_keeps_a_note_and_records_the_target(make_account, agent):
    dispute = raise_dispute(make_account(), "not_my_debt", amount=None)
    commit(workflow.escalate, dispute, agent, "legal", "Police report mentions a lawyer.")
    assert dispute.status == S.ESCALATED and dispute.escalated_to == "legal"
    with pytest.raises(DisputeRefused):
        workflow.escalate(dispute, agent, "nobody", "x")


def test_withdrawal_lifts_the_hold_and_closes_the_dispute(make_account, outbox):
    account = make_account()
    dispute = raise_dispute(account, amount=10_000)
    commit(services.withdraw, dispute, account.cardholder)
    assert dispute.status == S.WITHDRAWN and dispute.closed_at is not None
    assert escalation_pause(account, LATER) is None
    with pytest.raises(IllegalTransition):
        services.withdraw(dispute, account.cardholder)
    assert outbox()[-1]["subject"].endswith("Withdrawn")


def test_closed_dispute_accepts_no_reply(make_account):
    account = make_account()
    dispute = raise_dispute(account)
    commit(services.withdraw, dispute, account.cardholder)
    with pytest.raises(DisputeRefused):
        services.customer_reply(dispute, account.cardholder, "again")


def test_every_status_change_sends_one_message(make_account, agent, outbox):
    dispute = raise_dispute(make_account(), amount=10_000)
    commit(workflow.acknowledge, dispute, agent)
    commit(workflow.request_documents, dispute, agent, "Please send the receipt.")
    commit(workflow.escalate, dispute, agent, "manager", "Needs a second look.")
    commit(workflow.resolve, dispute, agent, "partly", 4_000, "Part of it was right.")
    assert len(outbox()) == 5  # raised + four changes


def test_reassign_to_the_least_busy_agent_and_conduct_never_to_a_collector(
        make_account, agent, make_staff):
    other = make_staff("customer_service")
    join("billing", other, "en")
    busy = raise_dispute(make_account())  # goes to `agent` (lowest id on a tie)
    assert busy.assignee_id == agent.id
    second = raise_dispute(make_account())
    assert second.assignee_id == other.id  # fewest open items
    commit(workflow.reassign, second, agent, queue("billing"), None, automatic=False)
    assert second.assignee_id is None
    collector = make_staff("collector", "customer_service")
    conduct = raise_dispute(make_account(), "conduct_complaint", amount=None)
    with pytest.raises(DisputeRefused):
        workflow.reassign(conduct, agent, queue("conduct"), collector)
    with pytest.raises(DisputeRefused):
        workflow.reassign(conduct, agent, queue("billing"), None)


def test_collector_cannot_join_the_conduct_queue(make_staff):
    with pytest.raises(ValueError):
        join("conduct", make_staff("collector", "customer_service"), "en")


def test_nobody_speaking_the_language_leaves_it_unassigned(make_account, make_cardholder,
                                                            agent):
    dispute = raise_dispute(make_account(make_cardholder(locale="zh_Hans")))
    assert dispute.queue.code == "billing" and dispute.assignee_id is None


def test_database_refuses_a_resolution_above_the_contested_amount(make_account):
    from sqlalchemy.exc import IntegrityError

    dispute = raise_dispute(make_account(), amount=1_000)
    dispute.resolution_amount = 1_001
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_closed_dispute_cannot_be_reopened_or_resolved_again(make_account, agent):
    dispute = raise_dispute(make_account(), amount=1_000)
    commit(workflow.resolve, dispute, agent, "rejected", None, "No error found.")
    for attempt in (lambda: workflow.acknowledge(dispute, agent),
                    lambda: workflow.resolve(dispute, agent, "upheld", None, "again"),
                    lambda: workflow.request_documents(dispute, agent, "more")):
        with pytest.raises(IllegalTransition):
            attempt()
        _db.session.rollback()
