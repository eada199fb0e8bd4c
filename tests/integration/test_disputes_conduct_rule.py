"""Routing, reassignment, queue membership and the staff access check all follow the one
conduct rule (routing.conduct_eligible): change it there and every one of them changes."""
import pytest

from portal.disputes import access, routing, workflow
from portal.disputes.services import DisputeRefused
from portal.extensions import db as _db
from tests.dispute_helpers import join, queue, raise_dispute


@pytest.fixture()
def asked(monkeypatch):
    """Record every question put to the conduct rule, answering as the real rule does."""
    real, calls = routing.conduct_eligible, []

    def spy(q, *, category=None, staff=None):
        calls.append((q.code, category, staff.id if staff is not None else None))
        return real(q, category=category, staff=staff)

    monkeypatch.setattr(routing, "conduct_eligible", spy)
    return calls


def test_routing_reassignment_membership_and_access_ask_the_one_rule(asked, make_account,
                                                                     make_staff):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    complaint = raise_dispute(make_account(), "conduct_complaint", amount=None)
    assert ("conduct", "conduct_complaint", None) in asked  # routing
    assert complaint.queue.code == "conduct"

    del asked[:]
    with pytest.raises(DisputeRefused):
        workflow.reassign(complaint, agent, queue("billing"), None)
    assert asked == [("billing", "conduct_complaint", None)]  # reassignment

    del asked[:]
    dual = make_staff("collector", "customer_service")
    with pytest.raises(ValueError):
        routing.set_membership(queue("conduct"), dual, True)
    assert ("conduct", None, dual.id) in asked  # membership (through can_work)

    del asked[:]
    complaint.assignee_id = dual.id  # assigned before the rule was kept, say
    _db.session.commit()
    assert not access.can_view(dual, complaint)
    assert ("conduct", None, dual.id) in asked  # the access check


def test_a_collector_given_a_conduct_complaint_by_hand_still_cannot_open_it(
        client, login_as, make_account, make_staff):
    dual = make_staff("collector", "customer_service")
    complaint = raise_dispute(make_account(), "conduct_complaint", amount=None)
    complaint.assignee_id = dual.id
    _db.session.commit()
    login_as(client, dual)
    assert client.get(f"/staff/disputes/{complaint.id}").status_code == 404
    assert f"D-{complaint.id}" not in client.get("/staff/disputes/?view=mine").get_data(
        as_text=True)


def test_a_stricter_rule_in_the_one_place_is_obeyed_everywhere(monkeypatch, make_account,
                                                               make_staff):
    """Were the rule to refuse customer service too, nobody but a manager would get or see a
    conduct complaint: routing leaves it unassigned and the agent loses access."""
    agent = make_staff("customer_service")
    join("conduct", agent, "en")
    before = raise_dispute(make_account(), "conduct_complaint", amount=None)
    assert before.assignee_id == agent.id and access.can_view(agent, before)

    real = routing.conduct_eligible
    monkeypatch.setattr(routing, "conduct_eligible", lambda q, *, category=None, staff=None: (
        real(q, category=category, staff=staff)
        and not (staff is not None and q.managers_only
                 and not staff.has_role(routing.Role.COLLECTIONS_MANAGER))))
    after = raise_dispute(make_account(), "conduct_complaint", amount=None)
    assert after.queue.code == "conduct" and after.assignee_id is None
    assert not access.can_view(agent, before)
    with pytest.raises(DisputeRefused):
        workflow.reassign(before, agent, queue("conduct"), agent)


@pytest.mark.parametrize("other_role", ["collections_manager", "legal"])
def test_a_collector_who_is_also_a_manager_or_legal_cannot_open_a_conduct_complaint(
        client, login_as, make_account, make_staff, other_role):
    dual = make_staff("collector", other_role)
    complaint = raise_dispute(make_account(), "conduct_complaint", amount=None)
    complaint.escalated_to = "legal"
    _db.session.commit()
    assert not access.can_view(dual, complaint) and not access.can_work(dual, complaint)
    login_as(client, dual)
    assert client.get(f"/staff/disputes/{complaint.id}").status_code == 404
    manager = make_staff("collections_manager")
    assert access.can_view(manager, complaint) and access.can_work(manager, complaint)
