"""Recording legal steps: validation with clear messages, an append-only record, every step
audited, corrections instead of edits."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.extensions import db as _db
from portal.legal import services
from portal.legal.models import LegalAction, LegalActionKind, LegalRecordImmutable
from tests.helpers import csrf_token
from tests.integration.legal_helpers import TODAY, freeze, late_account, post_step, refer


@pytest.fixture()
def referred(make_account, monkeypatch, clock):
    freeze(clock)
    account = late_account(make_account)
    refer(account)
    return account


@pytest.fixture()
def legal(client, login_as, make_staff):
    staff = make_staff("legal", name="Lena Legal")
    login_as(client, staff)
    return staff


def _actions(account_id):
    return list(_db.session.scalars(select(LegalAction).where(
        LegalAction.account_id == account_id).order_by(LegalAction.id)))


def test_legal_records_a_claim_with_amount_and_it_is_listed_and_audited(client, legal, referred):
    response = post_step(client, referred.id, kind="claim_filed", occurred_on="2026-11-20",
                         amount="12,000.00", court_reference="Shanghai Pudong Court (2026) 123",
                         note="Counsel: Wang & Co.")
    assert response.status_code == 302
    [action] = _actions(referred.id)
    assert (action.kind, action.occurred_on, action.amount, action.currency, action.recorded_by) \
        == (LegalActionKind.CLAIM_FILED, date(2026, 11, 20), 1_200_000, "CNY", legal.id)
    page = client.get(f"/staff/legal/accounts/{referred.id}").get_data(as_text=True)
    assert "Claim filed" in page and "¥12,000.00" in page and "Counsel: Wang &amp; Co." in page
    assert "The step was recorded." in page
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "legal_action.recorded"))
    assert event.subject_type == "legal_action" and event.subject_id == str(action.id)
    assert event.actor_type == "staff" and event.actor_id == str(legal.id)
    assert event.after["amount"] == 1_200_000 and event.after["kind"] == "claim_filed"
    assert verify_chain()[1] is None


@pytest.mark.parametrize("fields, message", [
    ({"kind": ""}, "Choose the step that was taken."),
    ({"kind": "correction"}, "Not a valid choice"),
    ({"occurred_on": ""}, "Enter the date of the step, for example 2027-03-03."),
    ({"occurred_on": "2026-11-29"}, "The date cannot be in the future."),
    ({"kind": "hearing_scheduled"}, "Enter the date of the hearing."),
    ({"kind": "hearing_scheduled", "hearing_on": "2026-11-01"},
     "The hearing cannot be before the day it was scheduled."),
    ({"kind": "formal_notice_sent", "hearing_on": "2026-12-01"},
     "A hearing date applies only to a scheduled hearing."),
    ({"kind": "formal_notice_sent", "amount": "100.00"},
     "An amount applies only to a claim or a judgment."),
    ({"amount": "12.345"}, "no more decimal places than the currency has."),
    ({"amount": "0"}, "Enter an amount greater than zero."),
    ({"amount": "-5.00"}, "Enter an amount of zero or more."),
    ({"court_reference": "x" * 201}, "Keep the court and reference under 200 characters."),
])
def test_a_wrong_step_is_explained_on_the_field_and_nothing_is_recorded(client, legal, referred,
                                                                        fields, message):
    response = post_step(client, referred.id, **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "The step was not recorded." in page
    assert 'aria-invalid="true"' in page
    assert _actions(referred.id) == []
    assert _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "legal_action.recorded")) is None


def test_a_hearing_in_the_future_is_fine_when_it_was_scheduled_today(client, legal, referred):
    assert post_step(client, referred.id, kind="hearing_scheduled", occurred_on=TODAY.isoformat(),
                     hearing_on="2027-01-15").status_code == 302
    [action] = _actions(referred.id)
    assert action.hearing_on == date(2027, 1, 15)


def test_a_step_cannot_be_edited_or_deleted(legal, referred):
    action = services.record_action(referred, legal, services.StepInput(
        kind="judgment_entered", occurred_on=date(2026, 11, 1), amount=500_000), TODAY)
    _db.session.commit()
    action.amount = 1
    with pytest.raises(LegalRecordImmutable):
        _db.session.flush()
    _db.session.rollback()
    _db.session.delete(_db.session.get(LegalAction, action.id))
    with pytest.raises(LegalRecordImmutable):
        _db.session.flush()
    _db.session.rollback()
    assert _db.session.get(LegalAction, action.id).amount == 500_000


def test_a_correction_marks_the_entry_in_error_and_keeps_it(client, legal, referred):
    post_step(client, referred.id, kind="judgment_entered", occurred_on="2026-11-10",
              amount="9,000.00")
    [wrong] = _actions(referred.id)
    path = f"/staff/legal/accounts/{referred.id}/actions/{wrong.id}/correct"
    empty = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": " "})
    assert empty.status_code == 422 and "Say why this entry is wrong." in empty.get_data(True)
    done = client.post(path, data={"csrf_token": csrf_token(client, path),
                                   "reason": "Entered on the wrong account."})
    assert done.status_code == 302
    wrong_row, correction = _actions(referred.id)
    assert wrong_row.amount == 900_000  # untouched
    assert (correction.kind, correction.corrects_id, correction.note, correction.recorded_by) == \
        (LegalActionKind.CORRECTION, wrong.id, "Entered on the wrong account.", legal.id)
    page = client.get(f"/staff/legal/accounts/{referred.id}").get_data(as_text=True)
    assert "Recorded in error" in page and f"Marks entry {wrong.id} as recorded in error." in page
    event = _db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "legal_action.corrected"))
    assert event.before["amount"] == 900_000 and event.after["corrects_id"] == wrong.id
    again = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Twice."})
    assert again.status_code == 422 and "already been corrected" in again.get_data(True)
    assert len(_actions(referred.id)) == 2


def test_a_correction_cannot_itself_be_corrected_nor_another_accounts_entry(
        client, legal, referred, make_account):
    post_step(client, referred.id)
    [step] = _actions(referred.id)
    correction = services.correct_action(referred, legal, step.id, "Wrong.", TODAY)
    _db.session.commit()
    other = late_account(make_account)
    refer(other)
    assert client.get(f"/staff/legal/accounts/{referred.id}/actions/{correction.id}/correct"
                      ).status_code == 404
    assert client.get(f"/staff/legal/accounts/{other.id}/actions/{step.id}/correct"
                      ).status_code == 404
    with pytest.raises(services.LegalActionRefused):
        services.correct_action(other, legal, step.id, "Not mine.", TODAY)


def test_the_database_refuses_a_correction_without_its_entry_and_a_negative_amount(legal, referred):
    from sqlalchemy.exc import IntegrityError

    for row in (LegalAction(account_id=referred.id, kind=LegalActionKind.CORRECTION,
                            occurred_on=TODAY, currency="CNY", recorded_by=legal.id),
                LegalAction(account_id=referred.id, kind=LegalActionKind.CLAIM_FILED,
                            occurred_on=TODAY, currency="CNY", amount=-1, recorded_by=legal.id)):
        _db.session.add(row)
        with pytest.raises(IntegrityError):
            _db.session.flush()
        _db.session.rollback()
