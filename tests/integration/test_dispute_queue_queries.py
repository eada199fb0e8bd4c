"""The SLA queue and "assigned to me" pages cost the same number of queries for 3 disputes as
for 30: nothing is loaded per row."""
import pytest
from sqlalchemy import event

from portal.extensions import db as _db
from tests.dispute_helpers import join, raise_dispute


class QueryCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._tick)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._tick)

    def _tick(self, *args, **kwargs):
        self.count += 1


def queries_for(client, path) -> int:
    with QueryCounter(_db.engine) as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("role, path", [
    ("customer_service", "/staff/disputes/?view=mine"),
    ("customer_service", "/staff/disputes/?view=queue"),
    ("collections_manager", "/staff/disputes/?view=queue"),
])
def test_queue_page_query_count_does_not_grow_with_the_number_of_disputes(
        client, login_as, make_account, make_staff, role, path):
    agent = make_staff(role)
    join("billing", agent, "en")
    login_as(client, agent)

    def add(n):
        for i in range(n):
            dispute = raise_dispute(make_account())
            # mine, someone else's (a different agent each time), or nobody's yet
            someone = make_staff("customer_service").id if i % 3 == 1 else None
            dispute.assignee_id = (agent.id, someone, None)[i % 3]
            if i % 4 == 1:
                dispute.status = dispute.status.__class__("awaiting_customer")
        _db.session.commit()

    add(3)
    client.get(path)  # warm caches (nav, translations)
    few = queries_for(client, path)
    add(27)
    many = queries_for(client, path)
    assert many == few, (few, many)


def test_the_list_reads_each_queue_with_its_members_as_the_entities_hold_them(make_staff):
    """The list reads the queues as columns (`access.queues_with_members`, what the
    access rule asks of a queue): the same queues, flags and members as the ORM entities,
    an empty queue with no member."""
    from sqlalchemy import select

    from portal.disputes.models import DisputeQueue
    from portal.disputes.access import queues_with_members
    from tests.dispute_helpers import queue

    first, second = make_staff("customer_service"), make_staff("collections_manager")
    join("billing", first, "en")
    join("billing", second, "en")
    join("fraud", second, "en")
    queue("conduct")
    _db.session.commit()
    entities = _db.session.scalars(select(DisputeQueue).order_by(DisputeQueue.id)).all()
    assert [(q.id, q.code, q.managers_only, tuple(sorted(m.staff_id for m in q.members)))
            for q in entities] == [(q.id, q.code, q.managers_only,
                                    tuple(m.staff_id for m in q.members))
                                   for q in queues_with_members()]
    assert any(not q.members for q in queues_with_members())
