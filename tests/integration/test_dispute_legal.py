"""Legal works what is escalated to legal: internal notes and legal steps that show in the
staff thread, never to the cardholder, and nothing else."""
import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.disputes import workflow
from portal.disputes.models import Dispute, DisputeMessage
from portal.extensions import db as _db
from portal.outbox.models import OutboxMessage
from tests.dispute_helpers import csrf, join, raise_dispute


@pytest.fixture()
def case(make_account, make_staff):
    agent, lawyer = make_staff("customer_service"), make_staff("legal")
    join("billing", agent, "en")
    account = make_account()
    dispute = raise_dispute(account)
    workflow.escalate(dispute, agent, "legal", "The cardholder's solicitor wrote to us.")
    _db.session.commit()
    return {"agent": agent, "lawyer": lawyer, "account": account, "dispute": dispute}


def written_by(staff) -> list[DisputeMessage]:
    return list(_db.session.scalars(select(DisputeMessage).where(
        DisputeMessage.author_type == "staff", DisputeMessage.author_id == staff.id)
        .order_by(DisputeMessage.id)))


def record(client, dispute, **fields):
    page = f"/staff/disputes/{dispute.id}"
    data = {f"lg-{k}": v for k, v in fields.items()}
    data["lg-csrf_token"] = csrf(client, page)
    return client.post(f"{page}/legal", data=data)


def test_legal_records_a_step_and_a_note_that_only_staff_read(client, login_as, case):
    dispute, lawyer = case["dispute"], case["lawyer"]
    login_as(client, lawyer)
    assert "Escalated to legal" in client.get("/staff/disputes/").get_data(as_text=True)
    sent_before = _db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert record(client, dispute, step="referred_to_counsel",
                  note="Sent to outside counsel.").status_code == 302
    assert record(client, dispute, step="", note="Counsel asks for the call log.").status_code \
        == 302
    staff_page = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    assert "Legal step: Referred to counsel" in staff_page
    assert "Sent to outside counsel." in staff_page
    assert "Counsel asks for the call log." in staff_page
    messages = written_by(lawyer)
    assert [m.legal_step for m in messages] == ["referred_to_counsel", None]
    assert not any(m.customer_visible for m in messages)
    assert _db.session.get(Dispute, dispute.id).status.value == "escalated"  # unchanged
    assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)) == sent_before
    actions = [e.action for e in _db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == str(lawyer.id)).order_by(AuditEvent.id))]
    assert actions[-2:] == ["dispute.legal_step_recorded", "dispute.note_added"]
    login_as(client, case["account"].cardholder)
    mine = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "counsel" not in mine.lower() and "call log" not in mine


def test_the_agent_sees_legal_steps_and_decides_what_to_reply(client, login_as, case):
    login_as(client, case["lawyer"])
    record(client, case["dispute"], step="formal_objection", note="")
    login_as(client, case["agent"])
    page = client.get(f"/staff/disputes/{case['dispute'].id}").get_data(as_text=True)
    assert "Legal step: Formal objection received" in page
    assert 'action="/staff/disputes/%d/legal"' % case["dispute"].id not in page  # not legal


def test_an_empty_record_or_an_unknown_step_is_refused(client, login_as, case):
    login_as(client, case["lawyer"])
    record(client, case["dispute"], step="", note="  ")
    follow = client.get(f"/staff/disputes/{case['dispute'].id}").get_data(as_text=True)
    assert "Write a note or choose a legal step." in follow
    assert record(client, case["dispute"], step="judgment", note="x").status_code == 302
    assert not written_by(case["lawyer"])


def test_legal_cannot_reply_resolve_or_ask_the_cardholder(client, login_as, case):
    dispute = case["dispute"]
    login_as(client, case["lawyer"])
    page = f"/staff/disputes/{dispute.id}"
    token = csrf(client, page)
    for action, data in (("message", {"msg-kind": "reply", "msg-body": "Hello"}),
                         ("documents", {"doc-body": "Send it"}),
                         ("resolve", {"res-outcome": "rejected", "res-reason": "No"}),
                         ("acknowledge", {}), ("escalate", {"esc-to": "manager",
                                                            "esc-note": "x"})):
        prefix = next(iter(data), "ack-").split("-")[0]
        data[f"{prefix}-csrf_token"] = token
        assert client.post(f"{page}/{action}", data=data).status_code in (403, 404), action
    assert not [m for m in _db.session.get(Dispute, dispute.id).messages if m.customer_visible
                and m.author_type == "staff"]


def test_legal_cannot_act_on_a_dispute_not_escalated_to_legal(client, login_as, case,
                                                              make_account):
    other = raise_dispute(make_account())
    login_as(client, case["lawyer"])
    response = client.post(f"/staff/disputes/{other.id}/legal",
                           data={"lg-note": "x", "lg-csrf_token": csrf(client, "/staff/disputes/")})
    assert response.status_code == 404


def test_legal_cannot_record_on_a_closed_dispute(client, login_as, case):
    dispute = case["dispute"]
    workflow.resolve(dispute, case["agent"], "rejected", None, "The charge is correct.")
    _db.session.commit()
    login_as(client, case["lawyer"])
    page = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    assert f'action="/staff/disputes/{dispute.id}/legal"' not in page
    record(client, dispute, step="court_papers", note="Late papers.")
    assert not written_by(case["lawyer"])


@pytest.mark.parametrize("role", ["customer_service", "collector", "collections_manager",
                                  "risk", "admin"])
def test_other_staff_roles_cannot_record_legal_steps(client, login_as, case, make_staff, role):
    login_as(client, make_staff(role))
    response = client.post(f"/staff/disputes/{case['dispute'].id}/legal",
                           data={"lg-step": "court_papers", "lg-note": "x",
                                 "lg-csrf_token": csrf(client, "/staff/")})
    assert response.status_code in (403, 404)


def test_cardholders_and_anonymous_cannot_record_legal_steps(client, login_as, case):
    path = f"/staff/disputes/{case['dispute'].id}/legal"
    assert client.post(path, data={"lg-note": "x"}).status_code in (302, 400)  # no token
    anonymous = client.post(path, data={"lg-note": "x", "lg-csrf_token": csrf(client, "/login")})
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
    login_as(client, case["account"].cardholder)
    response = client.post(path, data={"lg-note": "x", "lg-csrf_token": csrf(client, "/disputes")})
    assert response.status_code in (302, 403, 404)
    assert _db.session.scalars(select(DisputeMessage).where(
        DisputeMessage.legal_step.is_not(None))).first() is None
