"""Who may open which dispute page: anonymous, owner, another cardholder, each staff role."""
import io

import pytest
from sqlalchemy import select

from portal.disputes import workflow
from portal.disputes.models import Dispute
from portal.extensions import db as _db
from tests.dispute_helpers import PDF, csrf, join, raise_dispute

STAFF_ROLES = ("customer_service", "collector", "collections_manager", "risk", "legal", "admin")


@pytest.fixture()
def world(make_account, make_cardholder, make_staff):
    from werkzeug.datastructures import FileStorage

    owner = make_cardholder(password="Correct-Horse-42")
    account = make_account(owner)
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    dispute = raise_dispute(account, files=[FileStorage(io.BytesIO(PDF), "receipt.pdf")])
    return {"owner": owner, "other": make_cardholder(), "account": account, "agent": agent,
            "dispute": dispute, "attachment": dispute.attachments[0]}


def cardholder_pages(w):
    d, a = w["dispute"], w["attachment"]
    return [f"/disputes/{d.id}", f"/accounts/{w['account'].id}/disputes/new",
            f"/disputes/{d.id}/files/{a.id}"]


def test_anonymous_is_sent_to_sign_in_everywhere(client, world):
    for path in cardholder_pages(world) + ["/disputes"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    d = world["dispute"]
    for path in ("/staff/disputes/", f"/staff/disputes/{d.id}", "/staff/disputes/setup/rules",
                 "/staff/disputes/setup/queues", f"/staff/disputes/{d.id}/files/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    response = client.post(f"/disputes/{d.id}/withdraw")
    assert response.status_code in (302, 400)
    assert _db.session.get(Dispute, d.id).status.value == "open"


def test_owner_opens_every_cardholder_page(client, login_as, world):
    login_as(client, world["owner"])
    for path in cardholder_pages(world) + ["/disputes"]:
        assert client.get(path).status_code == 200, path


def test_another_cardholder_gets_not_found(client, login_as, world):
    login_as(client, world["other"])
    for path in cardholder_pages(world):
        assert client.get(path).status_code == 404, path
    d = world["dispute"]
    token = csrf(client, "/disputes")
    assert client.post(f"/disputes/{d.id}/reply",
                       data={"csrf_token": token, "body": "hi"}).status_code == 404
    assert client.post(f"/disputes/{d.id}/withdraw",
                       data={"wd-csrf_token": token}).status_code == 404
    assert f"D-{d.id}" not in client.get("/disputes").get_data(as_text=True)


def test_unknown_dispute_is_not_found(client, login_as, world):
    login_as(client, world["owner"])
    assert client.get("/disputes/999999").status_code == 404


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_cannot_use_cardholder_pages(client, login_as, make_staff, world, role):
    login_as(client, make_staff(role))
    for path in cardholder_pages(world) + ["/disputes"]:
        assert client.get(path).status_code == 403, path


def test_cardholder_cannot_use_the_workspace(client, login_as, world):
    login_as(client, world["owner"])
    d = world["dispute"]
    for path in ("/staff/disputes/", f"/staff/disputes/{d.id}", "/staff/disputes/setup/rules"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role,index,detail,rules", [
    ("collector", 403, 403, 403),
    ("risk", 403, 403, 403),
    ("admin", 403, 403, 200),
    ("legal", 200, 404, 403),  # legal sees only what is escalated to legal
    ("collections_manager", 200, 200, 200),
    ("customer_service", 200, 404, 403),  # not a member of the billing queue
])
def test_workspace_access_by_role(client, login_as, make_staff, world, role, index, detail,
                                  rules):
    login_as(client, make_staff(role))
    d, a = world["dispute"], world["attachment"]
    assert client.get("/staff/disputes/").status_code == index
    assert client.get(f"/staff/disputes/{d.id}").status_code == detail
    assert client.get(f"/staff/disputes/{d.id}/files/{a.id}").status_code == detail
    assert client.get("/staff/disputes/setup/rules").status_code == rules
    assert client.get("/staff/disputes/setup/queues").status_code == rules


def test_queue_member_sees_the_dispute_its_file_and_its_internal_notes(document_backend, client,
                                                                      login_as, world):
    d, a = world["dispute"], world["attachment"]
    workflow.staff_message(d, world["agent"], "Internal: looks like a duplicate.",
                           customer_visible=False)
    _db.session.commit()
    login_as(client, world["agent"])
    listing = client.get("/staff/disputes/?view=mine").get_data(as_text=True)
    assert f"D-{d.id}" in listing
    page = client.get(f"/staff/disputes/{d.id}").get_data(as_text=True)
    assert "Internal: looks like a duplicate." in page and "Internal note" in page
    response = client.get(f"/staff/disputes/{d.id}/files/{a.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_agent_sees_only_the_queues_they_belong_to(client, login_as, make_staff, world,
                                                   make_account):
    fraud_agent = make_staff("customer_service")
    join("fraud", fraud_agent, "en")
    fraud = raise_dispute(make_account(), "not_my_debt", amount=None)
    login_as(client, fraud_agent)
    listing = client.get("/staff/disputes/?view=queue").get_data(as_text=True)
    assert f"D-{fraud.id}" in listing and f"D-{world['dispute'].id}" not in listing
    billing_id = world["dispute"].queue_id
    assert client.get(f"/staff/disputes/?view=queue&queue={billing_id}").status_code == 404
    assert client.get(f"/staff/disputes/{world['dispute'].id}").status_code == 404


def test_legal_sees_a_dispute_once_escalated_to_legal_but_cannot_act(client, login_as,
                                                                     make_staff, world):
    lawyer = make_staff("legal")
    d = world["dispute"]
    workflow.escalate(d, world["agent"], "legal", "Threatens to sue.")
    _db.session.commit()
    login_as(client, lawyer)
    assert f"D-{d.id}" in client.get("/staff/disputes/?view=legal").get_data(as_text=True)
    assert client.get(f"/staff/disputes/{d.id}").status_code == 200
    token = csrf(client, f"/staff/disputes/{d.id}")
    response = client.post(f"/staff/disputes/{d.id}/acknowledge", data={"ack-csrf_token": token})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["customer_service", "collector", "legal"])
def test_only_a_manager_may_approve(client, login_as, make_staff, world, role):
    d = world["dispute"]
    staff = make_staff(role)
    join("billing", staff, "en") if role == "customer_service" else None
    login_as(client, staff)
    token = csrf(client, "/staff/disputes/setup/rules")
    response = client.post(f"/staff/disputes/{d.id}/approve", data={"ap-csrf_token": token})
    assert response.status_code == 403


def test_conduct_complaint_is_seen_by_managers_never_by_a_collector(client, login_as,
                                                                    make_staff, make_account):
    collector = make_staff("collector")
    manager = make_staff("collections_manager")
    complaint = raise_dispute(make_account(), "conduct_complaint", amount=None,
                              description="Your collector called me at midnight.")
    assert complaint.queue.managers_only and complaint.assignee_id is None
    login_as(client, collector)
    assert client.get(f"/staff/disputes/{complaint.id}").status_code == 403
    login_as(client, manager)
    listing = client.get("/staff/disputes/?view=queue").get_data(as_text=True)
    assert f"D-{complaint.id}" in listing


def test_staff_post_actions_are_csrf_protected(client, login_as, world):
    login_as(client, world["agent"])
    d = world["dispute"]
    response = client.post(f"/staff/disputes/{d.id}/acknowledge", data={})
    assert response.status_code in (302, 400)
    assert _db.session.scalars(select(Dispute)).one().status.value == "open"
