"""The SLA clock stands still while a dispute waits for the cardholder's documents: staff see
it paused, the cardholder sees the answer date move, and the office time waited is added to
the deadlines when they answer."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.disputes import services, workflow
from portal.disputes.models import Dispute, DisputeSlaPause
from portal.disputes.rules import DisputeStatus as S
from portal.extensions import db as _db
from portal.timeutil import as_aware
from tests.dispute_helpers import join, raise_dispute

SH = ZoneInfo("Asia/Shanghai")


def shanghai(*parts):
    return datetime(*parts, tzinfo=SH)


@pytest.fixture()
def agent(make_staff):
    staff = make_staff("customer_service")
    join("billing", staff, "en")
    return staff


def fresh(dispute):
    _db.session.expire_all()
    return _db.session.get(Dispute, dispute.id)


def test_the_wait_for_documents_is_added_to_the_resolve_deadline(clock, make_account, agent):
    clock.move_to(shanghai(2026, 11, 30, 10))  # Monday
    account = make_account()
    dispute = raise_dispute(account)  # wrong amount, cn: resolve within 10 business days
    # read back from the database: stored in UTC, so SQLite too returns the same moment
    assert as_aware(fresh(dispute).resolve_by) == shanghai(2026, 12, 14, 18)
    workflow.acknowledge(dispute, agent)
    clock.move_to(shanghai(2026, 12, 1, 10))
    workflow.request_documents(dispute, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(shanghai(2026, 12, 3, 15))  # office time waited: 8 + 9 + 6 = 23 hours
    services.customer_reply(fresh(dispute), account.cardholder, "Here it is.")
    _db.session.commit()
    done = fresh(dispute)
    assert done.status == S.ACKNOWLEDGED
    assert as_aware(done.resolve_by) == shanghai(2026, 12, 17, 14)  # 14 Dec 18:00 + 23 h
    pause = _db.session.scalars(select(DisputeSlaPause)).one()
    assert as_aware(pause.started_at) == shanghai(2026, 12, 1, 10)
    assert as_aware(pause.ended_at) == shanghai(2026, 12, 3, 15)
    assert pause.business_seconds == 23 * 3600
    event = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "dispute.documents_received")).one()
    assert event.after["sla_paused_seconds"] == 23 * 3600


def test_a_wait_over_the_weekend_adds_only_office_hours(clock, make_account, agent):
    clock.move_to(shanghai(2026, 11, 30, 10))
    account = make_account()
    dispute = raise_dispute(account)
    workflow.acknowledge(dispute, agent)
    clock.move_to(shanghai(2026, 12, 4, 17))  # Friday 17:00
    workflow.request_documents(dispute, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(shanghai(2026, 12, 7, 8))  # Monday before opening: 1 office hour waited
    services.customer_reply(fresh(dispute), account.cardholder, "Attached.")
    _db.session.commit()
    assert as_aware(fresh(dispute).resolve_by) == shanghai(2026, 12, 15, 10)


def test_staff_see_the_clock_paused_and_the_cardholder_the_new_answer_date(
        clock, client, login_as, make_account, agent):
    clock.move_to(shanghai(2026, 11, 30, 10))
    account = make_account()
    dispute = raise_dispute(account)
    workflow.acknowledge(dispute, agent)
    clock.move_to(shanghai(2026, 12, 1, 10))
    workflow.request_documents(dispute, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(shanghai(2026, 12, 2, 12))  # 8 + 3 office hours waited so far
    login_as(client, agent)
    queue_page = client.get("/staff/disputes/?view=mine").get_data(as_text=True)
    assert "Paused, waiting for the cardholder" in queue_page
    staff_page = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    assert "Paused, waiting for the cardholder" in staff_page and "Waiting since" in staff_page
    assert "badge-danger" not in staff_page
    login_as(client, account.cardholder)
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "December 16, 2026" in page  # 14 Dec 18:00 + 11 office hours, still moving
    assert "moves later until you reply" in page
    assert "December 16, 2026" in client.get("/disputes").get_data(as_text=True)
    clock.move_to(shanghai(2026, 12, 3, 15))
    services.customer_reply(fresh(dispute), account.cardholder, "Here it is.")
    _db.session.commit()
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "December 17, 2026" in page and "moves later until you reply" not in page


def test_an_overdue_dispute_waiting_for_the_cardholder_is_not_shown_overdue(
        clock, client, login_as, make_account, agent):
    clock.move_to(shanghai(2026, 11, 30, 10))
    waiting, working = raise_dispute(make_account()), raise_dispute(make_account())
    workflow.request_documents(waiting, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(shanghai(2026, 12, 31, 10))  # both deadlines long past
    login_as(client, agent)
    html = client.get("/staff/disputes/?view=mine").get_data(as_text=True)
    assert html.count("Overdue</span>") == 1
    assert html.index(f"D-{working.id}") < html.index(f"D-{waiting.id}")  # paused ones last


def test_asking_before_acknowledging_also_pauses_the_acknowledge_deadline(
        clock, make_account, agent):
    clock.move_to(shanghai(2026, 11, 30, 10))
    account = make_account()
    dispute = raise_dispute(account)
    assert as_aware(dispute.acknowledge_by) == shanghai(2026, 11, 30, 18)  # 8 office hours
    clock.move_to(shanghai(2026, 11, 30, 11))
    workflow.request_documents(dispute, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(shanghai(2026, 11, 30, 14))  # 3 office hours waited
    workflow.escalate(fresh(dispute), agent, "manager", "Needs a second look.")
    _db.session.commit()
    done = fresh(dispute)
    assert done.status == S.ESCALATED and done.acknowledged_at is None
    assert as_aware(done.acknowledge_by) == shanghai(2026, 12, 1, 12)  # 18:00 + 3 h
    assert as_aware(done.resolve_by) == shanghai(2026, 12, 15, 12)


def test_withdrawing_while_waiting_closes_the_pause(clock, make_account, agent):
    clock.move_to(shanghai(2026, 11, 30, 10))
    account = make_account()
    dispute = raise_dispute(account)
    workflow.request_documents(dispute, agent, "Please send the receipt.")
    _db.session.commit()
    clock.move_to(shanghai(2026, 11, 30, 12))
    services.withdraw(fresh(dispute), account.cardholder)
    _db.session.commit()
    pause = _db.session.scalars(select(DisputeSlaPause)).one()
    assert pause.ended_at is not None and pause.business_seconds == 2 * 3600
