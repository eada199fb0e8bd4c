"""Staff lists come in pages of 50 served by one query each, whatever the number of rows;
"My disputes" and the nightly plan monitoring cost a fixed number of statements too."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.core import pagination
from portal.collections import services as collections, worklists
from portal.disputes import access, services
from portal.disputes.models import Dispute, DisputeSlaPause
from portal.disputes.rules import DisputeStatus
from portal.extensions import db as _db
from portal.plans.jobs import run_plan_monitoring
from portal.timeutil import utcnow
from tests.dispute_helpers import join, queue, raise_dispute
from tests.helpers import statements_for, statements_sent
from tests.integration.plan_helpers import TODAY, agree, spec

HOSTILE_PAGES = ("0", "-1", "x", "1e9", "99999999999999999999999", "%E2%91%A0", "2.5", "",
                 "9" * 200, "100001")


def _counting(fn):
    seen = []

    def listener(*args):
        seen.append(args[2])
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        result = fn()
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return len(seen), result


def _debtor(make_account):
    return make_account(principal=500_000, interest=20_000, fees=15_000,
                        oldest_unpaid_due_date=TODAY - timedelta(days=40))


def test_the_open_queue_comes_in_pages_in_deadline_order_paused_last(
        client, login_as, make_account, make_staff, monkeypatch, clock):
    monkeypatch.setattr(pagination, "PER_PAGE", 2)
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    made = []
    for _ in range(5):
        made.append(raise_dispute(make_account()))
        clock.shift(timedelta(minutes=5))
    made[0].status = DisputeStatus.AWAITING_CUSTOMER  # paused: last whatever its deadline
    _db.session.commit()
    login_as(client, agent)
    shown = []
    for page in (1, 2, 3):
        html = client.get(f"/staff/disputes/?view=queue&page={page}").get_data(as_text=True)
        shown += [int(n) for n in re.findall(r">D-(\d+)</a>", html)]
        assert ('rel="next"' in html) == (page < 3) and ('rel="prev"' in html) == (page > 1)
        assert f"Page {page}" in html
    assert shown == [d.id for d in made[1:]] + [made[0].id]
    beyond = client.get("/staff/disputes/?view=queue&page=9").get_data(as_text=True)
    assert "No more disputes on this list." in beyond and 'rel="prev"' in beyond


def test_the_cached_work_order_follows_every_change(make_account, make_staff):
    dispute = raise_dispute(make_account())
    assert (dispute.sla_paused, dispute.sla_due_at) == (False, dispute.acknowledge_by)
    dispute.acknowledged_at = utcnow()
    _db.session.commit()
    assert dispute.sla_due_at == dispute.resolve_by
    dispute.status = DisputeStatus.AWAITING_CUSTOMER
    _db.session.commit()
    assert dispute.sla_paused is True
    services.withdraw(dispute, dispute.cardholder)
    _db.session.commit()
    assert (dispute.sla_paused, dispute.sla_due_at) == (None, None)


@pytest.mark.parametrize("roles", [("customer_service",), ("collections_manager",), ("legal",),
                                   ("collector", "collections_manager"), ("collector", "legal"),
                                   ("customer_service", "legal")])
def test_the_database_filter_shows_exactly_what_the_access_rule_allows(make_account, make_staff,
                                                                      roles):
    staff = make_staff(*roles)
    if {"customer_service", "collections_manager"} & set(roles):
        join("billing", staff, "en")
    other = make_staff("customer_service")
    disputes = [raise_dispute(make_account()),
                raise_dispute(make_account(), "conduct_complaint", amount=None)]
    for n, dispute in enumerate(list(disputes)):
        disputes.append(raise_dispute(make_account(), dispute.category,
                                      amount=None if dispute.contested_amount is None else 500))
        disputes[-1].escalated_to = "legal" if n == 0 else None
        disputes[-1].assignee_id = staff.id if n == 1 else other.id
    _db.session.commit()
    visibility = access.Visibility.of(staff)
    in_sql = set(_db.session.scalars(select(Dispute.id).where(visibility.clause())))
    assert in_sql == {d.id for d in disputes if access.can_view(staff, d)}


@pytest.mark.parametrize("path", ["/staff/disputes/?view=queue", "/staff/disputes/?view=mine",
                                  "/staff/disputes/?view=legal", "/staff/payments",
                                  "/staff/plans", "/staff/plans/review",
                                  "/staff/disputes/?view=queue&state=closed",
                                  "/staff/collections/my-accounts"])
@pytest.mark.parametrize("page", HOSTILE_PAGES)
def test_hostile_page_numbers_answer_a_page(client, login_as, make_staff, path, page):
    login_as(client, make_staff("collections_manager", "customer_service", "legal"))
    assert client.get(f"{path}{'&' if '?' in path else '?'}page={page}").status_code == 200


def test_agreed_plans_and_proposals_cost_the_same_for_3_rows_as_for_30(
        app, client, login_as, make_account, make_staff):
    login_as(client, make_staff("collections_manager"))

    def add(n):
        with app.test_request_context():
            for i in range(n):
                agree(_debtor(make_account), spec(count=24) if i % 2 else spec(),
                      source="proposal" if i % 2 else "offer")
            _db.session.commit()

    add(3)
    client.get("/staff/plans"), client.get("/staff/plans/review")  # warm caches
    few = statements_for(client, "/staff/plans"), statements_for(client, "/staff/plans/review")
    add(27)
    many = statements_for(client, "/staff/plans"), statements_for(client, "/staff/plans/review")
    assert many == few


def test_my_disputes_cost_the_same_for_3_awaiting_as_for_30(client, login_as, make_account):
    account = make_account()

    def add(n):
        for _ in range(n):
            dispute = raise_dispute(account)
            dispute.status = DisputeStatus.AWAITING_CUSTOMER
            _db.session.add(DisputeSlaPause(dispute_id=dispute.id, started_at=utcnow()))
        _db.session.commit()

    add(3)
    login_as(client, account.cardholder)
    client.get("/disputes")
    few = statements_for(client, "/disputes")
    add(27)
    many = statements_for(client, "/disputes")
    assert many == few
    assert client.get("/disputes").get_data(as_text=True).count("We will answer by") == 30


def test_plan_monitoring_costs_the_same_for_3_quiet_plans_as_for_30(app, make_account):
    def add(n):
        with app.test_request_context():
            for _ in range(n):
                agree(_debtor(make_account))
            _db.session.commit()

    add(3)
    run_plan_monitoring(TODAY)
    few, summary = _counting(lambda: run_plan_monitoring(TODAY))
    assert summary.plans == 3
    add(27)
    many, summary = _counting(lambda: run_plan_monitoring(TODAY))
    assert summary.plans == 30 and many == few


def test_the_worklist_comes_in_pages_and_costs_the_same_for_3_rows_as_for_30(
        client, login_as, make_account, make_staff, monkeypatch):
    manager, collector = make_staff("collections_manager"), make_staff("collector")

    def add(n, start):
        ids = [make_account(account_number=f"62000000{start + i:08d}", minimum_due=1_000,
                            oldest_unpaid_due_date=TODAY - timedelta(days=10 + start + i)).id
               for i in range(n)]
        collections.assign(ids, collector.id, manager)
        _db.session.commit()

    postgres = _db.engine.dialect.name == "postgresql"
    add(3, 0)
    login_as(client, collector)
    client.get("/staff/collections/my-accounts")
    # the signed-in member, then the page with each row's collector, last contact and
    # page-version token; each row's facts are kept under its token (`worklists.FACTS_KEPT`)
    few = statements_for(client, "/staff/collections/my-accounts")
    statements = [sql for sql, _ in statements_sent(client, "/staff/collections/my-accounts")]
    # built: then the rows' plan facts, broken promises and, on PostgreSQL, sums in one
    # statement; SQLite reads the balances after it (`page_balances`: the snapshots, then the
    # entries)
    monkeypatch.setattr(worklists, "FACTS_KEPT", False)
    few_built = statements_for(client, "/staff/collections/my-accounts")
    built = [sql for sql, _ in statements_sent(client, "/staff/collections/my-accounts")]
    assert len(statements) == few == 2, statements
    assert len(built) == few_built == (3 if postgres else 5), built
    if postgres:  # psycopg converts each once per process
        from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

        assert all(len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH for sql in built[1:])
    add(27, 3)
    assert statements_for(client, "/staff/collections/my-accounts") == few_built
    monkeypatch.setattr(worklists, "FACTS_KEPT", True)
    client.get("/staff/collections/my-accounts")
    assert statements_for(client, "/staff/collections/my-accounts") == few
    monkeypatch.setattr(pagination, "PER_PAGE", 20)
    first = client.get("/staff/collections/my-accounts").get_data(as_text=True)
    second = client.get("/staff/collections/my-accounts?page=2").get_data(as_text=True)
    numbers = re.findall(r">(62000000\d{8})</a>", first), re.findall(r">(62000000\d{8})</a>", second)
    # page 1: the 20 most days late (accounts 10-29), the 30-59 band (20-29) first
    assert {int(n[-2:]) for n in numbers[0]} == set(range(10, 30)) and len(numbers[1]) == 10
    assert numbers[0][:2] == ["6200000000000020", "6200000000000021"]
    assert 'rel="next"' in first and 'rel="prev"' in second
    if _db.engine.dialect.name == "postgresql":  # a page after a key: its statement too
        after = html.unescape(re.search(r'href="([^"]*after=[^"]*)"', first).group(1))
        monkeypatch.setattr(worklists, "FACTS_KEPT", False)
        keyed = [sql for sql, _ in statements_sent(client, after)]
        assert len(keyed) == 3 and "LIMIT" in keyed[1]
        assert all(len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH for sql in keyed[1:])
