"""Outbox messages are delivered only after their transaction commits: nothing is written to
the outbox directory before, and nothing ever for a transaction that rolled back."""
import os

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db as _db
from portal.outbox import services as outbox_services
from portal.outbox.models import OutboxMessage
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import post_form


@pytest.fixture()
def written(app, db):
    """The files in the outbox directory, as a sorted list of names."""
    def _files():
        directory = app.config["OUTBOX_DIR"]
        return sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    return _files


@pytest.fixture()
def committed_when_written(monkeypatch):
    """For each message written, whether its row was committed at that moment (seen from a
    connection of its own, which sees only committed rows)."""
    seen = []
    write = outbox_services._send

    def spy(message):
        with _db.engine.connect() as conn:
            seen.append(conn.scalar(text("SELECT COUNT(*) FROM outbox_message WHERE id = :id"),
                                    {"id": message.id}) == 1)
        return write(message)

    monkeypatch.setattr(outbox_services, "_send", spy)
    return seen


def test_a_queued_message_is_written_only_when_its_transaction_commits(
        written, committed_when_written):
    outbox_services.queue_sms("+8613800000001", "Your code is 123456", purpose="test")
    _db.session.flush()
    assert written() == []
    _db.session.commit()
    [name] = written()
    assert name.endswith("-test.json")
    assert committed_when_written == [True]


def test_a_rolled_back_message_is_never_written(app, written, make_cardholder):
    outbox_services.queue_email("someone@example.com", "Code", "Your code is 123456",
                                purpose="test")
    _db.session.rollback()
    make_cardholder()  # a later commit on the same session
    outbox_services.deliver_due()  # and the operators' delivery run
    assert written() == []
    assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_rolled_back_savepoint_keeps_the_outer_transactions_messages(written):
    outbox_services.queue_sms("+8613800000001", "kept", purpose="outer")
    savepoint = _db.session.begin_nested()
    outbox_services.queue_sms("+8613800000002", "dropped", purpose="inner")
    savepoint.rollback()
    assert written() == []
    _db.session.commit()
    assert [name.rsplit("-", 1)[1] for name in written()] == ["outer.json"]


def test_a_code_sent_by_a_request_is_written_after_the_request_commits(
        client, make_cardholder, written, committed_when_written):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    post_form(client, "/forgot", {"identity": holder.phone})
    assert len(written()) == 1
    assert committed_when_written == [True]
