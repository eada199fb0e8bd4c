"""Breathing space under the profile's `care` section (issue 16): a late fee whose day falls
in a breathing space that freezes fees is waived, never charged afterwards (with an audit
event and a line on the timeline), while a letter falling in it is deferred to after it; and
a pause that freezes only some things is described exactly on the timeline, in English and
Chinese."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind
from portal.audit.models import AuditEvent
from portal.care import rules, services
from portal.consequences.models import ConsequenceEvent, Notice
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.clock import TODAY
from tests.integration.test_care import DUE, _postings, _record

def test_a_fee_due_in_a_breathing_space_is_waived_not_charged_after_it(
        client, login_as, make_account, make_staff):
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    _record(account, make_staff("customer_service"), ends_on=date(2026, 11, 10))
    run_nightly(date(2026, 11, 12))
    assert _postings(account, EntryKind.FEE) == []  # before: charged on 11 November
    assert _postings(account, EntryKind.INTEREST) == [date(2026, 11, 11), date(2026, 11, 12)]
    fee = _db.session.scalar(select(ConsequenceEvent).where(ConsequenceEvent.kind == "late_fee"))
    assert (fee.waived, fee.amount, fee.occurred_on) == (True, 2_500, date(2026, 11, 2))
    audit = _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "consequences.fee_waived"))
    assert audit.subject_id == str(account.id) or audit.subject_id == account.id
    assert audit.after["amount"] == 2_500 and audit.after["on"] == "2026-11-02"
    run_nightly(date(2026, 11, 20))  # and not later either
    assert _postings(account, EntryKind.FEE) == []

    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/timeline").get_data(as_text=True)
    assert "a late fee of CN¥25.00 was not added to your balance" in page
    assert "will not be added later" in page
    assert "a late fee of CN¥25.00 was added to your balance" not in page


def test_a_letter_due_in_a_breathing_space_is_sent_after_it(make_account, make_staff):
    cycle = date(2026, 10, 1)  # 60 days late (the formal notice) on 30 November
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=cycle,
                           effective=cycle)
    _record(account, make_staff("customer_service"), starts_on=DUE, ends_on=date(2026, 12, 5))
    run_nightly(date(2026, 12, 7))
    assert _postings(account, EntryKind.FEE) == [date(2026, 10, 2)]  # before the period
    assert not _db.session.scalar(select(ConsequenceEvent.waived).where(
        ConsequenceEvent.kind == "late_fee"))
    notice = _db.session.scalar(select(Notice).where(Notice.kind == "formal_notice"))
    assert notice.issued_on == date(2026, 12, 6)  # the day after the period
    assert _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "consequences.fee_waived")) is None


def test_a_profile_whose_breathing_space_does_not_freeze_fees_charges_them(
        make_account, make_staff, monkeypatch):
    account = make_account(principal=500_000, minimum_due=50_000, oldest_unpaid_due_date=DUE,
                           effective=DUE)
    _record(account, make_staff("customer_service"), ends_on=date(2026, 11, 10))
    only_steps = rules.CareRules(60, {"breathing_space": frozenset({"escalation"})})
    monkeypatch.setattr(services, "rules_for", lambda policy: only_steps)
    run_nightly(date(2026, 11, 3))
    assert _postings(account, EntryKind.FEE) == [date(2026, 11, 2)]


@pytest.mark.parametrize("locale, paused_step, charged, fees_paused, all_paused", [
    ("en", "We take no further steps on your account.", "a late fee of CN¥25.00 will be added",
     "No fees are added.", "will not happen while escalation is paused"),
    ("zh_Hans", "我们不会对您的账户采取进一步措施。", "将向您的欠款中计入违约金", "不会加收费用",
     "在后续措施暂停期间"),
])
def test_a_partial_pause_says_exactly_what_is_paused(client, login_as, make_cardholder,
                                                     make_account, make_staff, locale,
                                                     paused_step, charged, fees_paused,
                                                     all_paused):
    holder = make_cardholder(locale=locale)
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=TODAY, effective=TODAY)
    # the shipped profiles: extra support stops escalation only, the late fee still applies
    _record(account, make_staff("collections_manager"), kind="vulnerability", reason="health",
            starts_on=TODAY)
    client.set_cookie("portal_locale", locale)
    login_as(client, holder)
    page = client.get(f"/accounts/{account.id}/timeline").get_data(as_text=True)
    upcoming = page.split('id="upcoming-title"')[1].split('id="past-title"')[0]
    assert paused_step in upcoming and charged in upcoming
    assert fees_paused not in upcoming and all_paused not in upcoming
    late_fee = upcoming.split(charged)[1].split("</li>")[0]
    assert 'class="prevent"' in late_fee  # paying still prevents the fee
    assert upcoming.count('class="paused"') >= 1
