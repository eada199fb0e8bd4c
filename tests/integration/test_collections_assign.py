"""Assigning accounts: history kept (a reassignment closes the old row), one current
collector per account, audit events, and the manager's page with its filters."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditEvent
from portal.collections import services
from portal.collections.models import AccountAssignment, RecordImmutable
from portal.extensions import db
from portal.policy.services import all_profiles
from portal.timeutil import utcnow
from tests.clock import TODAY
from tests.helpers import post_form
from tests.integration.collections_helpers import at



def _late(make_account, days, **kw):
    return make_account(oldest_unpaid_due_date=TODAY - timedelta(days=days), **kw)


def test_reassignment_closes_the_old_row_and_opens_a_new_one(make_account, make_staff):
    account = _late(make_account, 40)
    manager = make_staff("collections_manager")
    first, second = make_staff("collector"), make_staff("collector")
    services.assign([account.id], first.id, manager, now=at(date(2026, 11, 1)))
    db.session.commit()
    services.assign([account.id], second.id, manager, now=at(date(2026, 11, 15)))
    db.session.commit()

    history = services.assignment_history(account.id)
    assert [(h.collector_id, h.ended_at is None) for h in history] == [
        (first.id, False), (second.id, True)]
    assert history[0].ended_by_id == manager.id
    assert history[0].ended_at == history[1].assigned_at
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "collections.assigned").order_by(AuditEvent.id)).all()
    assert [(e.before, e.after) for e in events] == [
        ({"collector_id": None}, {"collector_id": first.id}),
        ({"collector_id": first.id}, {"collector_id": second.id})]


def test_assigning_to_the_same_collector_again_changes_nothing(make_account, make_staff):
    account = _late(make_account, 5)
    manager, collector = make_staff("collections_manager"), make_staff("collector")
    assert services.assign([account.id], collector.id, manager) == 1
    assert services.assign([account.id], collector.id, manager) == 0
    db.session.commit()
    assert len(services.assignment_history(account.id)) == 1


def test_unassigning_closes_the_current_row(make_account, make_staff):
    account = _late(make_account, 5)
    manager, collector = make_staff("collections_manager"), make_staff("collector")
    services.assign([account.id], collector.id, manager)
    services.assign([account.id], None, manager)
    db.session.commit()
    assert services.current_assignments([account.id]) == {}
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) \
        == "collections.unassigned"


def test_an_assignment_cannot_be_edited_reopened_or_deleted(make_account, make_staff):
    account = _late(make_account, 5)
    manager, collector, other = (make_staff("collections_manager"), make_staff("collector"),
                                 make_staff("collector"))
    services.assign([account.id], collector.id, manager)
    db.session.commit()
    row = services.assignment_history(account.id)[0]
    row.collector_id = other.id
    with pytest.raises(RecordImmutable):
        db.session.flush()
    db.session.rollback()
    services.assign([account.id], None, manager)
    db.session.commit()
    row = services.assignment_history(account.id)[0]
    row.ended_at = utcnow()
    with pytest.raises(RecordImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(services.assignment_history(account.id)[0])
    with pytest.raises(RecordImmutable):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_two_current_assignments(make_account, make_staff):
    account = _late(make_account, 5)
    a, b = make_staff("collector"), make_staff("collector")
    db.session.add_all([AccountAssignment(account_id=account.id, collector_id=a.id, assigned_by_id=a.id),
                        AccountAssignment(account_id=account.id, collector_id=b.id, assigned_by_id=b.id)])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_only_an_active_collector_can_receive_accounts(make_account, make_staff):
    account = _late(make_account, 5)
    manager, agent, gone = (make_staff("collections_manager"), make_staff("customer_service"),
                            make_staff("collector"))
    gone.active = False
    db.session.commit()
    for target in (agent.id, gone.id, 99_999):
        with pytest.raises(services.CollectionsError) as exc:
            services.assign([account.id], target, manager)
        assert exc.value.code == "not_a_collector"


def test_assign_page_lists_late_accounts_only_and_filters(client, login_as, make_account,
                                                          make_staff):
    manager, collector = make_staff("collections_manager"), make_staff("collector",
                                                                       name="Chen Wei")
    early = _late(make_account, 10, account_number="6200000000000010")
    m3 = _late(make_account, 95, account_number="6200000000000095")
    us = _late(make_account, 45, account_number="6200000000000045", currency="USD", profile="us")
    _late(make_account, 0, account_number="6200000000000000")  # due today: not late
    paid_up = _late(make_account, 30, account_number="6200000000000030", minimum_due=0)
    services.assign([m3.id], collector.id, manager)
    db.session.commit()
    login_as(client, manager)

    page = client.get("/staff/collections/assign").get_data(as_text=True)
    for account in (early, m3, us):
        assert account.account_number in page
    assert "6200000000000000" not in page and paid_up.account_number not in page
    assert page.index(m3.account_number) < page.index(us.account_number) < page.index(
        early.account_number)  # most days late first

    only = client.get("/staff/collections/assign?bucket=90-179").get_data(as_text=True)
    assert m3.account_number in only and early.account_number not in only
    only = client.get("/staff/collections/assign?profile=us").get_data(as_text=True)
    assert us.account_number in only and m3.account_number not in only
    only = client.get("/staff/collections/assign?collector=none").get_data(as_text=True)
    assert m3.account_number not in only and early.account_number in only
    only = client.get(f"/staff/collections/assign?collector={collector.id}").get_data(as_text=True)
    assert m3.account_number in only and "Chen Wei" in only and early.account_number not in only


def test_the_profile_filter_offers_every_policy_profile(client, login_as, make_staff):
    """The profiles come from the policies (shipped and published), not from a scan of
    every account: each profile is offered with no account on it yet."""
    login_as(client, make_staff("collections_manager"))
    page = client.get("/staff/collections/assign").get_data(as_text=True)
    offered = re.findall(r'<option value="(\w+)"', page.split('name="profile"')[1].split(
        "</select>")[0])
    assert offered == all_profiles() and {"cn", "us"} <= set(offered)


def test_manager_assigns_several_accounts_with_checkboxes(client, login_as, make_account,
                                                          make_staff):
    manager, collector = make_staff("collections_manager"), make_staff("collector")
    accounts = [_late(make_account, d) for d in (3, 33, 63)]
    login_as(client, manager)
    response = post_form(client, "/staff/collections/assign", {
        "account_ids": [str(accounts[0].id), str(accounts[2].id)], "to": str(collector.id)})
    assert response.status_code == 302
    current = services.current_assignments([a.id for a in accounts])
    assert {k: v.collector_id for k, v in current.items()} == {
        accounts[0].id: collector.id, accounts[2].id: collector.id}
    page = client.get("/staff/collections/assign").get_data(as_text=True)
    assert "Assignments changed: 2." in page


def test_assign_without_a_selection_or_collector_says_what_is_missing(client, login_as,
                                                                      make_account, make_staff):
    manager = make_staff("collections_manager")
    _late(make_account, 3)
    login_as(client, manager)
    response = post_form(client, "/staff/collections/assign", {"to": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Select at least one account." in page and "Choose a collector." in page
    assert db.session.scalar(select(AccountAssignment.id)) is None
