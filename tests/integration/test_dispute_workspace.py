"""The workspace through HTTP: queue order by SLA, each action's form, routing-rule editing."""
from datetime import timedelta

from sqlalchemy import delete as sa_delete, select

from portal.audit.models import AuditEvent
from portal.disputes.models import Dispute, DisputeRoutingRule, StaffLanguage
from portal.disputes.rules import DisputeStatus as S
from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.dispute_helpers import csrf, join, queue, raise_dispute


def post(client, path, prefix, page, **fields):
    data = {f"{prefix}-{k}": v for k, v in fields.items()}
    data[f"{prefix}-csrf_token"] = csrf(client, page)
    return client.post(path, data=data)


def test_queue_lists_overdue_disputes_first_with_the_clock(client, login_as, make_account,
                                                           make_staff):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    fresh = raise_dispute(make_account())
    late = raise_dispute(make_account())
    late.acknowledge_by = utcnow() - timedelta(hours=3)
    _db.session.commit()
    login_as(client, agent)
    html = client.get("/staff/disputes/?view=mine").get_data(as_text=True)
    assert html.index(f"D-{late.id}") < html.index(f"D-{fresh.id}")
    assert "Overdue" in html and "3 hours ago" in html


def test_agent_works_a_dispute_from_reply_to_resolution(client, login_as, make_account,
                                                        make_staff, outbox):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    account = make_account(principal=500_000)
    dispute = raise_dispute(account, amount=30_000)
    page = f"/staff/disputes/{dispute.id}"
    login_as(client, agent)
    html = client.get(page).get_data(as_text=True)
    assert "Total outstanding" in html and "Ledger" in html and "Acknowledge by" in html
    post(client, f"{page}/message", "msg", page, kind="note", body="Looks duplicated.")
    post(client, f"{page}/message", "msg", page, kind="reply", template="received", body="")
    assert _db.session.get(Dispute, dispute.id).status == S.ACKNOWLEDGED
    post(client, f"{page}/documents", "doc", page, body="Please send the receipt.")
    assert _db.session.get(Dispute, dispute.id).status == S.AWAITING_CUSTOMER
    post(client, f"{page}/acknowledge", "ack", page)
    post(client, f"{page}/escalate", "esc", page, to="manager", note="Second look.")
    assert _db.session.get(Dispute, dispute.id).escalated_to == "manager"
    post(client, f"{page}/resolve", "res", page, outcome="partly", amount="100.00",
         reason="One of the two charges was wrong.")
    done = _db.session.get(Dispute, dispute.id)
    assert done.status == S.RESOLVED_PARTLY and done.resolution_amount == 10_000
    actions = set(_db.session.scalars(select(AuditEvent.action)))
    assert {"dispute.note_added", "dispute.replied", "dispute.documents_requested",
            "dispute.escalated", "dispute.resolved", "ledger.dispute_credit"} <= actions
    login_as(client, account.cardholder)
    mine = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "One of the two charges was wrong." in mine and "Looks duplicated." not in mine


def test_manager_approves_through_the_page(client, login_as, make_account, make_staff):
    agent, manager = make_staff("customer_service"), make_staff("collections_manager")
    join("billing", agent, "en")
    dispute = raise_dispute(make_account(), amount=200_000)
    page = f"/staff/disputes/{dispute.id}"
    login_as(client, agent)
    post(client, f"{page}/resolve", "res", page, outcome="upheld", amount="",
         reason="Statement line duplicated.")
    assert _db.session.get(Dispute, dispute.id).status == S.PENDING_APPROVAL
    login_as(client, manager)
    assert "Waiting for a manager" in client.get(page).get_data(as_text=True)
    post(client, f"{page}/approve", "ap", page)
    assert _db.session.get(Dispute, dispute.id).status == S.RESOLVED_UPHELD


def test_reassign_through_the_page(client, login_as, make_account, make_staff):
    agent, other = make_staff("customer_service"), make_staff("customer_service")
    join("billing", agent, "en")
    join("billing", other, "en")
    dispute = raise_dispute(make_account())
    page = f"/staff/disputes/{dispute.id}"
    login_as(client, agent)
    post(client, f"{page}/reassign", "re", page, queue=str(queue("billing").id),
         assignee=str(other.id))
    assert _db.session.get(Dispute, dispute.id).assignee_id == other.id


def test_withdraw_and_reply_through_the_cardholder_pages(client, login_as, make_account,
                                                         outbox):
    account = make_account()
    dispute = raise_dispute(account)
    login_as(client, account.cardholder)
    page = f"/disputes/{dispute.id}"
    response = client.post(f"{page}/reply", data={"csrf_token": csrf(client, page),
                                                  "body": "I also attach nothing."})
    assert response.status_code == 302
    empty = client.post(f"{page}/reply", data={"csrf_token": csrf(client, page), "body": ""})
    assert empty.status_code == 400 and "Write a message or add a file." in empty.get_data(
        as_text=True)
    client.post(f"{page}/withdraw", data={"wd-csrf_token": csrf(client, page)})
    assert _db.session.get(Dispute, dispute.id).status == S.WITHDRAWN
    html = client.get(page).get_data(as_text=True)
    assert "Withdrawn" in html and "Reply or add documents" not in html


def test_manager_adds_edits_and_deletes_a_routing_rule(client, login_as, make_staff,
                                                       make_account):
    manager = make_staff("collections_manager")
    login_as(client, manager)
    rules_page = "/staff/disputes/setup/rules"
    response = client.post(rules_page, data={
        "csrf_token": csrf(client, rules_page), "priority": "1", "category": "wrong_amount",
        "language": "", "min_amount": "1000.00", "max_amount": "", "currency": "cny",
        "queue": str(queue("fraud").id)})
    assert response.status_code == 302
    rule = _db.session.scalars(select(DisputeRoutingRule).where(
        DisputeRoutingRule.priority == 1)).one()
    assert rule.min_amount == 100_000 and rule.category == "wrong_amount"
    assert rule.currency == "CNY"
    rule_id = rule.id
    assert raise_dispute(make_account(), amount=150_000).queue.code == "fraud"
    assert raise_dispute(make_account(), amount=5_000).queue.code == "billing"
    client.post(f"{rules_page}/{rule_id}", data={
        "csrf_token": csrf(client, rules_page), "priority": "1", "category": "wrong_amount",
        "language": "zh_Hans", "min_amount": "", "max_amount": "", "queue": str(queue("fraud").id)})
    _db.session.expire_all()
    assert _db.session.get(DisputeRoutingRule, rule_id).language == "zh_Hans"
    client.post(f"{rules_page}/{rule_id}/delete", data={"csrf_token": csrf(client, rules_page)})
    _db.session.expire_all()
    assert _db.session.get(DisputeRoutingRule, rule_id) is None
    actions = list(_db.session.scalars(select(AuditEvent.action)))
    assert {"dispute.rule_saved", "dispute.rule_deleted"} <= set(actions)


def test_rule_with_bounds_the_wrong_way_round_is_refused(client, login_as, make_staff):
    login_as(client, make_staff("admin"))
    page = "/staff/disputes/setup/rules"
    response = client.post(page, data={
        "csrf_token": csrf(client, page), "priority": "5", "category": "", "language": "",
        "min_amount": "500", "max_amount": "100", "currency": "CNY",
        "queue": str(queue("billing").id)})
    assert response.status_code == 400
    assert "must not be below the smallest" in response.get_data(as_text=True)


def rule_form(client, page, **fields):
    data = {"csrf_token": csrf(client, page), "priority": "1", "category": "wrong_amount",
            "language": "", "min_amount": "", "max_amount": "", "currency": "",
            "queue": str(queue("fraud").id)}
    data.update(fields)
    return client.post(page, data=data)


def test_yen_bounds_are_read_without_decimals_and_route_only_yen_disputes(
        client, login_as, make_staff, make_account):
    login_as(client, make_staff("collections_manager"))
    page = "/staff/disputes/setup/rules"
    assert rule_form(client, page, min_amount="100000", currency="JPY").status_code == 302
    rule = _db.session.scalars(select(DisputeRoutingRule).where(
        DisputeRoutingRule.priority == 1)).one()
    assert (rule.min_amount, rule.currency) == (100_000, "JPY")  # 100,000 yen, not 1,000.00
    html = client.get(page).get_data(as_text=True)
    assert "100,000" in html and "1,000.00" not in html
    edit = client.get(f"{page}/{rule.id}").get_data(as_text=True)
    assert 'value="100000"' in edit and 'value="JPY"' in edit
    yen = make_account(currency="JPY", principal=500_000)
    assert raise_dispute(yen, amount=150_000).queue.code == "fraud"
    assert raise_dispute(yen, amount=99_999).queue.code == "billing"
    # the same minor-unit amount in yuan (1,500.00 CNY) is not in a yen rule's range
    assert raise_dispute(make_account(currency="CNY"), amount=150_000).queue.code == "billing"


def test_decimals_a_currency_does_not_have_are_refused(client, login_as, make_staff):
    login_as(client, make_staff("admin"))
    page = "/staff/disputes/setup/rules"
    response = rule_form(client, page, min_amount="1000.50", currency="JPY")
    assert response.status_code == 400
    assert "no more decimal places than the currency has" in response.get_data(as_text=True)
    assert _db.session.scalars(select(DisputeRoutingRule).where(
        DisputeRoutingRule.priority == 1)).first() is None


def test_bounds_without_a_currency_or_with_an_unknown_one_are_refused(client, login_as,
                                                                      make_staff):
    login_as(client, make_staff("admin"))
    page = "/staff/disputes/setup/rules"
    missing = rule_form(client, page, min_amount="1000.00")
    assert missing.status_code == 400
    assert "Say which currency the amounts are in." in missing.get_data(as_text=True)
    unknown = rule_form(client, page, min_amount="1000.00", currency="XYZ")
    assert unknown.status_code == 400
    assert "Enter a currency code such as CNY, USD or JPY." in unknown.get_data(as_text=True)
    assert rule_form(client, page, category="hardship_other").status_code == 302  # no bounds


def test_the_database_refuses_bounds_without_a_currency(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    _db.session.add(DisputeRoutingRule(priority=1, min_amount=100, queue_id=queue("billing").id))
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_admin_puts_an_agent_in_a_queue_with_languages(client, login_as, make_staff):
    admin, agent = make_staff("admin"), make_staff("customer_service")
    collector = make_staff("collector")
    login_as(client, admin)
    page = "/staff/disputes/setup/queues"
    response = client.post(page, data={"csrf_token": csrf(client, page),
                                       "queue": str(queue("hardship").id), "email": agent.email,
                                       "languages": ["en", "zh_Hans"], "action": "add"})
    assert response.status_code == 302
    langs = set(_db.session.scalars(select(StaffLanguage.language).where(
        StaffLanguage.staff_id == agent.id)))
    assert langs == {"en", "zh_Hans"}
    assert agent.name in client.get(page).get_data(as_text=True)
    refused = client.post(page, data={"csrf_token": csrf(client, page),
                                      "queue": str(queue("conduct").id),
                                      "email": collector.email, "action": "add"})
    assert refused.status_code == 400


def test_cli_setup_puts_customer_service_in_queues_and_is_idempotent(runner, make_staff,
                                                                     make_account):
    agent, collector = make_staff("customer_service"), make_staff("collector")
    for _ in range(2):
        result = runner.invoke(args=["disputes", "setup"])
        assert result.exit_code == 0 and "staff placed: 1" in result.output
    assert raise_dispute(make_account(), "conduct_complaint", amount=None).assignee_id == agent.id
    members = {m.staff_id for m in queue("conduct").members}
    assert collector.id not in members


def test_opening_the_rules_page_keeps_the_default_queues_it_offers(client, login_as, make_staff):
    """The form offers queue ids; they must still exist when the form comes back."""
    from portal.disputes.models import DisputeQueue

    _db.session.execute(sa_delete(DisputeRoutingRule))
    _db.session.execute(sa_delete(DisputeQueue))
    _db.session.commit()
    login_as(client, make_staff("collections_manager"))
    assert client.get("/staff/disputes/setup/rules").status_code == 200
    assert _db.session.scalars(select(DisputeQueue)).all() != []
