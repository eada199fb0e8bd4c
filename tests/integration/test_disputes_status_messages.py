"""Every status message about an open dispute tells the cardholder the date they can expect an
answer, as a day in their own time zone and language; when waiting for their documents moves
that date, the next message carries the new one. Read from the outbox, as they would."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.disputes import services, workflow
from portal.extensions import db as _db
from tests.dispute_helpers import join, raise_dispute

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


@pytest.fixture()
def agent(make_staff):
    staff = make_staff("customer_service")
    join("billing", staff, "en", "zh_Hans")
    return staff


def bodies(outbox, dispute):
    return [m["body"] for m in outbox() if f"D-{dispute.id}" in m["body"]]


def test_waiting_for_documents_moves_the_answer_date_and_the_next_message_says_so(
        clock, make_account, agent, outbox):
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=SH))  # Monday; cn: resolve within 10 business days
    account = make_account()
    dispute = raise_dispute(account)
    workflow.acknowledge(dispute, agent)
    _db.session.commit()
    clock.move_to(datetime(2026, 12, 1, 10, tzinfo=SH))
    workflow.request_documents(dispute, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(datetime(2026, 12, 3, 15, tzinfo=SH))  # 23 office hours waited
    services.customer_reply(dispute, account.cardholder, "Here it is.")
    _db.session.commit()

    received, reviewed, waiting, answered = bodies(outbox, dispute)
    assert "Received. We will answer by December 14, 2026." in received
    assert "Being reviewed. We will answer by December 14, 2026." in reviewed
    assert ("Waiting for information from you. We will answer by December 14, 2026; this date "
            "moves later for as long as we wait for your information.") in waiting
    # 14 Dec 18:00 plus the 23 office hours waited: 17 Dec 14:00 in Shanghai
    assert "Being reviewed. We will answer by December 17, 2026." in answered


def test_the_answer_date_is_the_cardholders_day_in_their_own_zone(clock, make_account,
                                                                   make_cardholder, agent,
                                                                   outbox):
    """A us-profile deadline is 17:00 in New York: for a cardholder living in Shanghai that is
    the next morning, so their message names the next day."""
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=NY))
    in_new_york = raise_dispute(make_account(make_cardholder(timezone="America/New_York"),
                                             currency="USD", profile="us"))
    in_shanghai = raise_dispute(make_account(make_cardholder(timezone="Asia/Shanghai"),
                                             currency="USD", profile="us"))
    assert in_new_york.resolve_by == in_shanghai.resolve_by
    assert "We will answer by December 14, 2026." in bodies(outbox, in_new_york)[0]
    assert "We will answer by December 15, 2026." in bodies(outbox, in_shanghai)[0]


def test_a_chinese_cardholder_reads_the_date_in_chinese(clock, make_account, make_cardholder,
                                                        agent, outbox):
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=SH))
    dispute = raise_dispute(make_account(make_cardholder(locale="zh_Hans")))
    workflow.acknowledge(dispute, agent)
    _db.session.commit()
    assert all("2026年12月14日" in body for body in bodies(outbox, dispute))


def test_a_text_message_carries_the_date_too(clock, make_account, make_cardholder, agent,
                                             outbox):
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=SH))
    holder = make_cardholder(email=None)
    dispute = raise_dispute(make_account(holder))
    workflow.acknowledge(dispute, agent)
    _db.session.commit()
    texts = [m for m in outbox() if m["channel"] == "sms" and m["to"] == holder.phone]
    assert len(texts) == 2
    assert all("We will answer by December 14, 2026." in m["body"] for m in texts)


@pytest.mark.parametrize("close", ["resolve", "withdraw"])
def test_a_closed_dispute_names_no_answer_date(clock, make_account, agent, outbox, close):
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=SH))
    account = make_account()
    dispute = raise_dispute(account)
    if close == "resolve":
        workflow.resolve(dispute, agent, "rejected", None, "The fee was charged correctly.")
    else:
        services.withdraw(dispute, account.cardholder)
    _db.session.commit()
    opened, closed = bodies(outbox, dispute)
    assert "We will answer by" in opened
    assert "We will answer by" not in closed
    assert closed.startswith(f"The status of your dispute D-{dispute.id} is now: ")


def test_every_open_status_names_the_date(clock, make_account, agent, outbox):
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=SH))
    dispute = raise_dispute(make_account(), amount=200_000)  # above the approval threshold
    workflow.escalate(dispute, agent, "manager", "Needs a second look.")
    workflow.acknowledge(dispute, agent)
    workflow.resolve(dispute, agent, "upheld", None, "The fee was wrong.")
    _db.session.commit()
    assert dispute.status.value == "pending_approval"
    statuses = ["Received", "Being reviewed by a specialist", "Being reviewed",
                "Decision being confirmed"]
    messages = bodies(outbox, dispute)
    assert len(messages) == len(statuses)
    for status, body in zip(statuses, messages):
        assert f"{status}. We will answer by December 14, 2026." in body


def test_a_dispute_past_its_answer_date_says_we_are_late_in_messages_and_pages(
        clock, make_account, agent, outbox, client, login_as):
    clock.move_to(datetime(2026, 11, 30, 10, tzinfo=SH))  # answer due 14 December
    account = make_account()
    dispute = raise_dispute(account)
    _db.session.commit()
    clock.move_to(datetime(2026, 12, 16, 10, tzinfo=SH))
    workflow.acknowledge(dispute, agent)
    _db.session.commit()
    late = bodies(outbox, dispute)[-1]
    assert ("Being reviewed. We should have answered by December 14, 2026; we are sorry for the "
            "delay and will answer as soon as we can.") in late
    assert "We will answer by" not in late
    login_as(client, account.cardholder)
    for path in (f"/disputes/{dispute.id}", "/disputes"):
        page = client.get(path).get_data(as_text=True)
        assert "We should have answered by" in page and "We will answer by" not in page
        assert "December 14, 2026" in page
