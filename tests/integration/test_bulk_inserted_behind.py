"""portal.bulk.inserted_behind: inserts sent while the caller works in Python, in the caller's
transaction, their failures raised in the caller's thread (SQLite: inserted first)."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditStreamHead
from portal.bulk import inserted_behind, is_postgres

HEADS = AuditStreamHead.__table__
COLUMNS = ("stream", "event_count", "last_id", "last_hash")


def heads(*names):
    return (HEADS, COLUMNS, [(name, 0, None, "0" * 64) for name in names])


def stored(db):
    return db.session.scalar(select(func.count()).select_from(AuditStreamHead))


def test_the_rows_are_in_when_the_block_ends_in_the_callers_transaction(db):
    worked = []
    with inserted_behind(heads("a", "b"), heads("c")):
        worked.append(sum(range(1000)))  # Python only: the helper holds the connection
    assert worked and stored(db) == 3
    db.session.rollback()  # one transaction with the caller's: gone with it
    assert stored(db) == 0


def test_the_helper_sends_on_another_thread_while_the_body_runs(db, monkeypatch):
    # PostgreSQL: the COPYs go from a helper thread; the body runs meanwhile on this one.
    if not is_postgres():
        pytest.skip("SQLite inserts first, on the caller's thread")
    import portal.bulk as bulk

    senders, original = [], bulk._copy

    def noting(*args, **kwargs):
        senders.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(bulk, "_copy", noting)
    with inserted_behind(heads("a"), heads("b")):
        pass
    assert len(senders) == 2 and threading.current_thread() not in senders
    assert stored(db) == 2


def test_a_refused_insert_is_raised_in_the_callers_thread_and_nothing_after_it_is_sent(db):
    worked = []
    with pytest.raises(IntegrityError):
        with inserted_behind(heads("a", "a"), heads("b")):
            worked.append(True)
    # PostgreSQL raises it as the block ends; SQLite, inserting first, before the body.
    assert worked == ([True] if is_postgres() else [])
    db.session.rollback()
    assert stored(db) == 0
    with inserted_behind(heads("c")):  # the connection is usable again
        pass
    assert stored(db) == 1


def test_the_bodys_own_error_wins_and_the_inserts_are_waited_for(db):
    with pytest.raises(ZeroDivisionError):
        with inserted_behind(heads("a")):
            1 / 0
    # The helper finished before the error left the block: the session is free to use.
    assert not [t for t in threading.enumerate() if t.name == "inserted_behind"]
    assert stored(db) == 1
    db.session.rollback()
    assert stored(db) == 0
