"""Breathing space and vulnerability (issue 16): staff record them, the nightly run freezes
what the profile says, collection messages wait, the cardholder is told what is frozen (never
why), and only the roles in portal.care.access read the details, every read audited."""
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.care import services
from portal.care.models import CareRecord
from portal.collections import services as collections
from portal.consequences.models import ConsequenceEvent
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.clock import TODAY
from tests.helpers import token_in

DUE = date(2026, 11, 1)


@pytest.fixture()
def late_account(make_account):
    return make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                        effective=DUE)


def _postings(account, kind):
    return _db.session.scalars(select(LedgerEntry.effective_date).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == kind,
        LedgerEntry.source_ref.like("nightly:%")).order_by(LedgerEntry.effective_date)).all()


def _record(account, staff, kind="breathing_space", reason="standard", starts_on=DUE,
            ends_on=None):
    row = services.add_record(account, staff, kind=kind, reason=reason, starts_on=starts_on,
                              ends_on=ends_on, note="Debt adviser's notice 2026-11-01",
                              today=TODAY)
    _db.session.commit()
    return row


def test_a_breathing_space_freezes_interest_fees_and_steps_and_they_resume_after(
        late_account, make_staff):
    row = _record(late_account, make_staff("customer_service"), ends_on=date(2026, 11, 10))
    assert row.last_day == date(2026, 11, 10)
    run_nightly(date(2026, 11, 10))
    assert _postings(late_account, EntryKind.FEE) == []
    assert _postings(late_account, EntryKind.INTEREST) == []
    # the late fee's day fell in the breathing space: waived (recorded as such), nothing else
    assert _db.session.execute(select(ConsequenceEvent.kind, ConsequenceEvent.waived)).all() \
        == [("late_fee", True)]
    run_nightly(date(2026, 11, 12))
    # interest for the frozen days is never charged; it runs again from the day after
    assert _postings(late_account, EntryKind.INTEREST) == [date(2026, 11, 11),
                                                           date(2026, 11, 12)]


def test_a_standard_breathing_space_lasts_the_profile_length(late_account, make_staff):
    row = _record(late_account, make_staff("customer_service"))
    assert row.ends_on == DUE + timedelta(days=59)


def test_a_vulnerability_flag_stops_only_escalation_under_the_shipped_profile(
        late_account, make_staff):
    _record(late_account, make_staff("collections_manager"), kind="vulnerability",
            reason="health")
    run_nightly(date(2026, 11, 5))
    assert _postings(late_account, EntryKind.INTEREST)  # interest still accrues
    assert _postings(late_account, EntryKind.FEE) == [date(2026, 11, 2)]
    kinds = set(_db.session.scalars(select(ConsequenceEvent.kind)))
    assert kinds == {"late_fee"}


def test_collection_messages_wait_while_contact_is_frozen_and_not_after(late_account,
                                                                        make_staff, clock):
    staff = make_staff("customer_service")
    row = _record(late_account, staff, starts_on=TODAY - timedelta(days=1))
    assert services.accounts_on_hold({late_account.id}) == {late_account.id}
    services.end_record(row, staff, reason="Adviser ended it", today=TODAY)
    _db.session.commit()
    assert services.accounts_on_hold({late_account.id}) == set()


def test_the_cardholder_is_told_what_is_frozen_never_why(client, login_as, late_account,
                                                         make_staff):
    _record(late_account, make_staff("customer_service"), starts_on=TODAY - timedelta(days=2))
    login_as(client, late_account.cardholder)
    html = client.get("/home").get_data(as_text=True)
    until = format_date(TODAY + timedelta(days=57), "long", locale="en")
    assert "You are in a breathing space until" in html and until in html
    assert "No interest is added." in html and "No fees are added." in html
    assert "We will not send you collection messages" in html
    assert "Debt adviser" not in html and "standard" not in html.lower().split("breathing")[0]


def test_the_cardholder_reads_it_in_chinese(client, login_as, make_cardholder, make_account,
                                            make_staff):
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=DUE, effective=DUE)
    _record(account, make_staff("customer_service"), kind="vulnerability", reason="life_event",
            starts_on=TODAY)
    client.set_cookie("portal_locale", "zh_Hans")
    login_as(client, holder)
    html = client.get("/home").get_data(as_text=True)
    assert "我们已记录您可能需要额外支持。" in html and "我们不会对您的账户采取进一步措施。" in html


def test_staff_record_and_end_through_the_page_and_every_read_is_audited(
        app, login_as, late_account, make_staff):
    client = app.test_client()
    login_as(client, make_staff("customer_service"))
    page = client.get(f"/staff/care/accounts/{late_account.id}")
    assert page.status_code == 200
    reads = _db.session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "care.viewed"))
    assert reads == 1
    response = client.post(f"/staff/care/accounts/{late_account.id}", data={
        "csrf_token": token_in(page.get_data(as_text=True)), "kind": "breathing_space:standard",
        "starts_on": TODAY.isoformat(), "ends_on": "", "note": "Adviser notice"})
    assert response.status_code == 302
    row = _db.session.scalar(select(CareRecord))
    assert (row.kind, row.ends_on) == ("breathing_space", TODAY + timedelta(days=59))
    page = client.get(f"/staff/care/accounts/{late_account.id}")
    html = page.get_data(as_text=True)
    assert "Adviser notice" in html and "In force" in html
    ended = client.post(f"/staff/care/records/{row.id}/end", data={
        "csrf_token": token_in(html), "reason": "Adviser says it ended"})
    assert ended.status_code == 302
    _db.session.refresh(row)
    assert row.ended_on == TODAY and not row.in_force(TODAY)
    actions = set(_db.session.scalars(select(AuditEvent.action)))
    assert {"care.viewed", "care.recorded", "care.ended"} <= actions


@pytest.mark.parametrize("fields, message", [
    ({"kind": "breathing_space:standard", "starts_on": (TODAY + timedelta(days=1)).isoformat()},
     "The start cannot be in the future."),
    ({"kind": "breathing_space:standard", "starts_on": (TODAY - timedelta(days=31)).isoformat()},
     "The start can be at most 30 days back."),
    ({"kind": "breathing_space:standard", "starts_on": TODAY.isoformat(),
      "ends_on": (TODAY + timedelta(days=90)).isoformat()},
     "A standard breathing space cannot be longer than the profile allows."),
    ({"kind": "vulnerability:health", "starts_on": TODAY.isoformat(),
      "ends_on": (TODAY - timedelta(days=1)).isoformat()}, "The end cannot be before the start."),
    ({"kind": "breathing_space:sleep", "starts_on": TODAY.isoformat()},
     "Choose what is recorded and why."),
    ({"kind": "", "starts_on": "31/02/2026"}, "Choose what is recorded and why."),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(app, login_as, late_account,
                                                                 make_staff, fields, message):
    client = app.test_client()
    login_as(client, make_staff("collections_manager"))
    page = client.get(f"/staff/care/accounts/{late_account.id}")
    data = {"csrf_token": token_in(page.get_data(as_text=True)), "ends_on": "", "note": "",
            **fields}
    response = client.post(f"/staff/care/accounts/{late_account.id}", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(CareRecord)) == 0


def test_a_second_breathing_space_cannot_overlap_one_in_force(late_account, make_staff):
    staff = make_staff("customer_service")
    _record(late_account, staff)
    with pytest.raises(services.CareError) as refused:
        _record(late_account, staff, starts_on=TODAY)
    assert refused.value.code == "overlaps"


def test_a_collector_handles_care_only_on_accounts_assigned_to_them(app, login_as, late_account,
                                                                    make_staff):
    collector = make_staff("collector")
    client = app.test_client()
    login_as(client, collector)
    assert client.get(f"/staff/care/accounts/{late_account.id}").status_code == 404
    collections.assign([late_account.id], collector.id, make_staff("collections_manager"))
    _db.session.commit()
    assert client.get(f"/staff/care/accounts/{late_account.id}").status_code == 200


@pytest.mark.parametrize("role", ["risk", "legal", "admin"])
def test_other_roles_see_only_what_is_frozen_in_the_account_context(role, make_staff, app,
                                                                    login_as, late_account):
    client = app.test_client()
    login_as(client, make_staff(role))
    assert client.get(f"/staff/care/accounts/{late_account.id}").status_code == 403
