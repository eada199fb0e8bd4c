"""The dispute queue's page statement is built once per process for everyone with the same
roles (`access.seen_clause`, `access._view_query`): who reads and their queues are bind
parameters. An agent of another queue reading through the statement another agent's request
built never sees a row that is not theirs, and a change of membership shows at once. Runs
on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (the queue ids as one array there)."""
from __future__ import annotations

import re

from portal.disputes import access, routing
from portal.disputes.rules import DisputeStatus
from portal.extensions import db as _db
from tests.dispute_helpers import join, queue, raise_dispute

SHOWN = re.compile(r">D-(\d+)</a>")


def _shown(client, path: str) -> set[int]:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return {int(n) for n in SHOWN.findall(answer.get_data(as_text=True))}


def _world(make_account, make_staff):
    alice = make_staff("customer_service")
    bob = make_staff("customer_service")
    join("billing", alice, "en")
    join("fraud", bob, "en")
    billing = [raise_dispute(make_account()) for _ in range(3)]
    fraud = [raise_dispute(make_account(), "unauthorised_transaction", amount=2_000)
             for _ in range(3)]
    return alice, bob, billing, fraud


def test_agents_of_two_queues_share_the_statement_and_never_the_rows(
        client, login_as, make_account, make_staff):
    alice, bob, billing, fraud = _world(make_account, make_staff)
    mine = {d.id for d in billing + fraud if d.assignee_id == bob.id}
    billing_id, fraud_id = queue("billing").id, queue("fraud").id
    for round_ in range(2):  # the second round reads through statements both have built
        login_as(client, alice)
        assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in billing}
        assert _shown(client, f"/staff/disputes/?view=queue&queue={billing_id}") == {
            d.id for d in billing}
        assert client.get(f"/staff/disputes/?view=queue&queue={fraud_id}").status_code == 404
        built = set(access._BUILT)
        login_as(client, bob)
        assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in fraud}
        assert _shown(client, f"/staff/disputes/?view=queue&queue={fraud_id}") == {
            d.id for d in fraud}
        assert _shown(client, "/staff/disputes/?view=mine") == mine
        assert client.get(f"/staff/disputes/?view=queue&queue={billing_id}").status_code == 404
        if round_:
            # Bob's pages used the statements Alice's built (same roles, same views)
            assert set(access._BUILT) == built


def test_a_manager_then_an_agent_through_the_same_lists(client, login_as, make_account,
                                                        make_staff):
    alice, bob, billing, fraud = _world(make_account, make_staff)
    manager = make_staff("collections_manager", "customer_service")
    login_as(client, manager)
    assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in billing + fraud}
    login_as(client, alice)
    assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in billing}
    login_as(client, manager)
    assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in billing + fraud}


def test_closed_disputes_of_another_queue_stay_unseen(client, login_as, make_account,
                                                      make_staff):
    alice, bob, billing, fraud = _world(make_account, make_staff)
    for dispute in (billing[0], fraud[0]):
        dispute.status = DisputeStatus.WITHDRAWN
        dispute.closed_at = dispute.created_at
        dispute.sla_due_at = None
    _db.session.commit()
    login_as(client, alice)
    assert _shown(client, "/staff/disputes/?view=queue&state=closed") == {billing[0].id}
    login_as(client, bob)
    assert _shown(client, "/staff/disputes/?view=queue&state=closed") == {fraud[0].id}


def test_a_change_of_queue_shows_at_once_through_the_kept_statement(client, login_as,
                                                                    make_account, make_staff):
    alice, bob, billing, fraud = _world(make_account, make_staff)
    login_as(client, alice)
    assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in billing}
    routing.set_membership(queue("billing"), alice, False)
    join("fraud", alice, "en")
    assert _shown(client, "/staff/disputes/?view=queue") == {d.id for d in fraud}
    routing.set_membership(queue("fraud"), alice, False)
    _db.session.commit()
    # in no queue: only what is assigned to her, in the "mine" view
    assert _shown(client, "/staff/disputes/?view=queue") == set()
    assert _shown(client, "/staff/disputes/?view=mine") == {
        d.id for d in billing + fraud if d.assignee_id == alice.id}


def test_the_kept_views_show_each_reader_their_own_queues(client, login_as, make_account,
                                                         make_staff):
    alice, bob, billing, fraud = _world(make_account, make_staff)
    manager = make_staff("collections_manager", "customer_service", "legal")
    billing_id, fraud_id = queue("billing").id, queue("fraud").id
    for who, links, absent in ((manager, (billing_id, fraud_id), ()),
                               (alice, (billing_id,), (fraud_id,)),
                               (bob, (fraud_id,), (billing_id,)),
                               (manager, (billing_id, fraud_id), ())):
        login_as(client, who)
        for state in ("", "&state=closed"):
            page = client.get(f"/staff/disputes/?view=queue{state}").get_data(as_text=True)
            for queue_id in links:
                assert f"queue={queue_id}" in page
            for queue_id in absent:
                assert f"queue={queue_id}" not in page
            assert ("view=legal" in page) is (who is manager)
