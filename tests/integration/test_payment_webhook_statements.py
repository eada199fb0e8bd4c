"""What one webhook delivery costs in SQL (issue 15): a duplicate is refused by the event's
unique id before any lock; a posting reads its payment once, locked, with its account and
cardholder (on PostgreSQL in the event's own insert: portal/payments/fast_posting.py), writes
it once and appends one audit event (on PostgreSQL the fast path is three statements: the
claim, a read that takes the audit head, and one write of the entries, the payment, the event
with its head's move and the confirmation)."""
from __future__ import annotations

from sqlalchemy import event

from portal.extensions import db
from tests.integration.payment_helpers import intent_event, signed_event
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)
from tests.integration.test_payment_webhooks import _succeed_at_provider


def _statements(client, payload, headers) -> tuple[str, list[str]]:
    seen: list[str] = []

    def listener(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.post("/webhooks/payments", data=payload, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return response.get_json()["outcome"], seen


def _count(seen: list[str], start: str) -> int:
    return sum(s.startswith(start) for s in seen)


def test_a_posting_reads_its_payment_once_and_a_duplicate_takes_no_lock(client, started):
    _succeed_at_provider(started)
    payload, headers = signed_event(intent_event(started))
    outcome, seen = _statements(client, payload, headers)
    assert outcome == "processed"
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:  # the fast path: the event's insert reads the payment, account and cardholder
        assert _count(seen, "WITH ev AS (INSERT INTO webhook_event ") == 1
        assert _count(seen, "SELECT payment.") == 0
    else:
        assert _count(seen, "SELECT payment.") == 1  # with its account and cardholder
    # no lazy load of either (the signed-in cardholder's own load, with a join, is the client's)
    assert not [s for s in seen if s.startswith(("SELECT account.", "SELECT cardholder."))
                and " JOIN " not in s]
    heads = [s for s in seen if "audit_stream_head" in s]
    if postgres:  # the claim; the guards, sums and head (taken) read; one write of the rest
        # less the signed-in cardholder's load (the client's) and the confirmation's
        # delivery after the commit (no broker here)
        work = [s for s in seen if not s.startswith((
            "SELECT cardholder.", "SELECT outbox_message.id ", "UPDATE outbox_message "))]
        assert len(work) == 3 and work[0].startswith("WITH ev AS (INSERT INTO webhook_event ")
        assert work[1].startswith("WITH audit_head AS (INSERT INTO audit_stream_head ")
        assert work[2].startswith("WITH entries AS (INSERT INTO ledger_entry ")
        for part in ("UPDATE payment ", "INSERT INTO audit_event ", "UPDATE audit_stream_head ",
                     "INSERT INTO outbox_message "):
            assert part in work[2], part
        assert len(heads) == 2
    else:
        assert _count(seen, "UPDATE payment ") == 1
        assert len(heads) == 3 and _count(seen, "INSERT INTO audit_event ") == 1

    outcome, seen = _statements(client, payload, headers)
    assert outcome == "duplicate"
    if postgres:  # one statement; its payment read only runs when the insert did
        # (test_fast_posting_postgres checks that a duplicate waits on no payment lock)
        assert [s for s in seen if "webhook_event" in s or "payment" in s] == \
            [s for s in seen if s.startswith("WITH ev AS (INSERT INTO webhook_event ")]
        assert not [s for s in seen if s.startswith(("UPDATE payment ", "INSERT INTO audit"))]
        return
    assert _count(seen, "INSERT INTO webhook_event ") == 1
    assert not [s for s in seen if "FOR UPDATE" in s or s.startswith(
        ("SELECT payment.", "UPDATE payment ", "INSERT INTO audit"))]
