"""Reads shared while a page is assembled (portal.core.reads, issue 15): the plan and care
pauses give inside `shared_reads` what they give outside it, from one read each."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event

from portal.care import services as care
from portal.core.reads import shared, shared_reads, sharing
from portal.plans.services import plan_facts_for, plan_pauses
from tests.clock import TODAY
from tests.integration.plan_helpers import agree


@contextmanager
def statements_sent(db):
    seen = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_shared_loads_once_per_key_inside_the_scope_and_every_time_outside():
    calls = []

    def load():
        calls.append(1)
        return len(calls)

    assert shared("k", load) == 1 and shared("k", load) == 2  # outside: no sharing
    with shared_reads():
        assert sharing()
        assert shared("k", load) == 3 and shared("k", load) == 3
        with shared_reads():  # nested: the outer block's reads
            assert shared("k", load) == 3
        assert shared("other", load) == 4
    assert not sharing() and shared("k", load) == 5  # nothing outlives the block


def test_plan_pauses_inside_the_scope_equal_those_outside(make_account, clock, db):
    planned, plain = make_account(), make_account()
    agree(planned)
    db.session.commit()
    accounts = [planned, plain]
    for day in (TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=30)):
        outside = plan_pauses(accounts, day)
        with shared_reads():
            inside = plan_pauses(accounts, day)
            with statements_sent(db) as seen:
                plan_facts_for(accounts)
            assert seen == []  # the facts came from the pause's read
        assert inside == outside
    assert planned.id in plan_pauses(accounts, TODAY) and plain.id not in outside


def test_care_pauses_and_views_inside_the_scope_equal_those_outside_from_one_read(
        make_account, make_staff, db):
    account, other = make_account(), make_account()
    care.add_record(account, make_staff("customer_service"), kind="breathing_space",
                    reason="standard", starts_on=date(2026, 11, 1), ends_on=None,
                    note="Debt adviser's notice", today=TODAY)
    db.session.commit()
    accounts = [account, other]
    outside = (care.care_pauses(accounts, TODAY), care.care_for(accounts, TODAY))
    with shared_reads():
        pauses = care.care_pauses(accounts, TODAY)
        with statements_sent(db) as seen:
            views = care.care_for(accounts, TODAY)
        assert [s for s in seen if "care_record" in s] == []  # the records were read once
    assert (pauses, views) == outside and account.id in pauses and other.id not in views
