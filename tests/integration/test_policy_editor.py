"""The risk role edits policy profiles: access, validation, preview and publishing."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.policy.models import PolicyVersion
from portal.policy.services import policy_for, publish
from portal.timeutil import utcnow

URL = "/staff/risk/policies/"


def _form(client, profile="cn"):
    """The edit form as a browser would submit it, prefilled."""
    html = client.get(f"{URL}{profile}/new").get_data(as_text=True)
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data[name] = value
    for tag in re.findall(r'<input[^>]*>', html):
        name = re.search(r'name="([^"]+)"', tag)
        if name and 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "y"
            else:
                data.pop(name.group(1), None)
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*([^<]*)</textarea>',
                                  html):
        data[name] = _unescape(value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]+)"|'
                           r'<option[^>]*value="([^"]+)"[^>]*selected', body)
        if chosen:
            data[name] = chosen.group(1) or chosen.group(2)
    data.pop("preview", None)
    data.pop("publish", None)
    data["effective_from"] = (utcnow().date() + timedelta(days=7)).isoformat()
    return data


def previewed(client, data, profile="cn"):
    """`data` with the fingerprint its preview shows and the confirmation ticked, ready to
    publish."""
    page = client.post(f"{URL}{profile}/new", data={**data, "preview": "Preview the effect"})
    draft = re.search(r'name="draft"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="draft"',
                      page.get_data(as_text=True))
    assert draft, "the preview shows no draft fingerprint"
    return {**data, "draft": draft.group(1) or draft.group(2), "confirm": "y",
            "publish": "Publish new version"}


def _unescape(text):
    import html

    return html.unescape(text)


@pytest.fixture()
def risk(client, login_as, make_staff):
    return login_as(client, make_staff("risk"))


def test_anonymous_is_sent_to_staff_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_cardholder_is_refused(client, login_as, make_cardholder):
    login_as(client, make_cardholder(password="Correct-Horse-42"))
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}cn/new").status_code == 403


@pytest.mark.parametrize("role", ["customer_service", "collector", "collections_manager",
                                  "legal", "admin"])
def test_other_staff_roles_are_refused(client, login_as, make_staff, role):
    login_as(client, make_staff(role))
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}cn/new", data={}).status_code in (400, 403)


def test_risk_sees_profiles_versions_and_reads_the_shipped_version(risk):
    page = risk.get(URL).get_data(as_text=True)
    assert "cn" in page and "us" in page
    version = risk.get(f"{URL}cn/v1").get_data(as_text=True)
    assert "five years" in version and "Credit Reporting Industry Regulation" in version
    assert risk.get(f"{URL}zz/v1").status_code == 404
    assert risk.get(f"{URL}zz/new").status_code == 404


def test_edit_form_is_prefilled_from_the_version_in_force(risk):
    data = _form(risk)
    assert data["stage_m1"] == "30" and data["rate"] == "18.25"
    assert data["fee_percent"] == "5" and data["fee_min"] == "10.00"
    assert "five years" in data["text_credit_report_en"]


def test_invalid_edit_shows_messages_and_changes_nothing(risk):
    data = _form(risk)
    data.update(stage_m2="20", rate="150", day_card_block="0", text_charge_off_zh_Hans="")
    before = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    data["publish"] = "Publish new version"
    response = risk.post(f"{URL}cn/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Each stage must start later than the one before it." in page
    assert "Enter a rate between 0 and 100 percent." in page
    assert "Enter a number of days greater than zero." in page
    assert "Enter the explanation in this language." in page
    assert _db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_fee_amounts_read_like_every_other_money_field(risk):
    data = _form(risk)
    data.update(fee_max="12,0000", publish="Publish new version")
    assert risk.post(f"{URL}cn/new", data=data).status_code == 422
    assert _db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0
    data.update(fee_max="1,200.50")
    assert risk.post(f"{URL}cn/new", data=previewed(risk, data)).status_code == 302
    assert policy_for("cn", date.fromisoformat(data["effective_from"])).late_fee.maximum == 120_050


def test_effective_date_in_the_past_is_refused(risk):
    data = _form(risk)
    data.update(effective_from=(utcnow().date() - timedelta(days=1)).isoformat(),
                publish="Publish new version")
    response = risk.post(f"{URL}cn/new", data=data)
    assert response.status_code == 422 and "Choose today or a later date." in response.text
    assert _db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_preview_counts_accounts_that_would_change_stage_or_dates(risk, make_account):
    today = utcnow().date()
    make_account(oldest_unpaid_due_date=today - timedelta(days=35), effective=today)  # m1
    make_account(oldest_unpaid_due_date=today - timedelta(days=10), effective=today)  # early
    make_account(minimum_due=0, effective=today)  # current, nothing overdue
    make_account(profile="us", currency="USD", oldest_unpaid_due_date=today - timedelta(days=45),
                 effective=today)
    data = _form(risk)
    data.update(stage_m1="40", day_card_block="50", preview="Preview the effect")
    page = risk.post(f"{URL}cn/new", data=data).get_data(as_text=True)
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert facts == {"Accounts on this profile": "3", "Accounts that would change stage": "1",
                     "Accounts with a new consequence date": "2"}
    assert _db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_publish_creates_version_2_with_an_audit_event_and_it_takes_effect(risk, make_staff):
    data = _form(risk)
    effective = date.fromisoformat(data["effective_from"])
    data.update(day_card_block="75", note="Block later")
    response = risk.post(f"{URL}cn/new", data=previewed(risk, data))
    assert response.status_code == 302 and response.headers["Location"].endswith("/cn/v2")
    row = _db.session.scalar(select(PolicyVersion))
    assert (row.version, row.effective_from, row.note) == (2, effective, "Block later")
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.publish"))
    assert event.before["version"] == 1 and event.after["version"] == 2
    assert event.actor_type == "staff"
    assert policy_for("cn", effective - timedelta(days=1)).consequence("card_block").dpd == 60
    assert policy_for("cn", effective).consequence("card_block").dpd == 75
    assert risk.get(f"{URL}cn/v1").status_code == 200  # old versions stay readable
    assert "Block later" in risk.get(URL).get_data(as_text=True)


def test_publish_service_refuses_invalid_document_and_numbers_versions(db, make_staff):
    staff = make_staff("risk")
    doc = policy_for("us", date(2026, 1, 1)).document
    today = date(2026, 11, 28)
    first = publish("us", doc, date(2026, 12, 1), staff, today=today)
    second = publish("us", doc, date(2026, 12, 1), staff, today=today)
    assert (first.version, second.version) == (2, 3)
    broken = dict(doc, penalty_interest=dict(doc["penalty_interest"], annual_rate="101"))
    from portal.policy.rules import PolicyInvalid

    with pytest.raises(PolicyInvalid):
        publish("us", broken, date(2026, 12, 1), staff, today=today)
    assert policy_for("us", date(2026, 12, 1)).version == 3


def test_interest_cannot_be_unfrozen_under_plans_that_promised_it_frozen(db, make_staff,
                                                                        make_account):
    # Issue 11: the risk editor could switch off freeze_while_paused under plans that promised
    # frozen interest, so those plans would start paying penalty interest while kept.
    from portal.policy.rules import PolicyInvalid
    from tests.integration.payment_helpers import make_active_plan

    staff = make_staff("risk")
    doc = policy_for("cn", date(2026, 11, 28)).document
    unfrozen = dict(doc, penalty_interest=dict(doc["penalty_interest"], freeze_while_paused=False))
    account = make_account(oldest_unpaid_due_date=date(2026, 10, 1))
    make_active_plan(account, [30_000, 30_000], date(2026, 12, 5))  # frozen interest, kept
    with pytest.raises(PolicyInvalid) as refused:
        publish("cn", unfrozen, date(2026, 12, 1), staff, today=date(2026, 11, 28))
    assert [(e.code, e.path) for e in refused.value.errors] == [
        ("frozen_plans_in_force", "penalty_interest.freeze_while_paused")]
    assert policy_for("cn", date(2026, 12, 1)).version == 1
    publish("us", dict(policy_for("us", date(2026, 11, 28)).document,
                       penalty_interest=dict(policy_for("us", date(2026, 11, 28))
                                             .document["penalty_interest"],
                                             freeze_while_paused=False)),
            date(2026, 12, 1), staff, today=date(2026, 11, 28))  # no such plan under us


def test_promises_and_care_sections_have_prefilled_form_fields(risk):
    data = _form(risk)
    assert (data["promise_days_ahead"], data["promise_minimum"], data["promise_percent"],
            data["promise_grace_days"], data["promise_broken_limit"],
            data["promise_broken_window"]) == ("14", "100.00", "10", "3", "2", "90")
    assert data["care_days"] == "60"
    assert {k for k in data if k.startswith("care_breathing_space_")} == {
        f"care_breathing_space_{w}" for w in ("contact", "interest", "fees", "escalation")}
    assert {k for k in data if k.startswith("care_vulnerability_")} == {
        "care_vulnerability_escalation"}


def test_promises_and_care_edited_in_the_form_are_published(risk):
    data = _form(risk)
    effective = date.fromisoformat(data["effective_from"])
    data.update(promise_days_ahead="21", promise_minimum="150.50", promise_grace_days="",
                care_days="45", care_vulnerability_fees="y")
    data.pop("care_breathing_space_contact")
    response = risk.post(f"{URL}cn/new", data=previewed(risk, data))
    assert response.status_code == 302
    document = policy_for("cn", effective).document
    promises, care = document["promises"], document["care"]
    assert promises["max_days_ahead"] == 21 and "grace_days" not in promises  # the default
    assert promises["minimum_amount"]["CNY"] == 15_050
    assert promises["minimum_amount"]["USD"] == 2000  # other currencies kept
    assert care["breathing_space_days"] == 45 and care["rule"].startswith("Issuer's choice")
    assert care["freezes"] == {"breathing_space": ["interest", "fees", "escalation"],
                               "vulnerability": ["fees", "escalation"]}


@pytest.mark.parametrize("field, value, message", [
    ("promise_days_ahead", "91", "Enter a number of days from 1 to 90."),
    ("promise_days_ahead", "0", "Enter a number of days from 1 to 90."),
    ("promise_percent", "101", "Enter a whole percent from 0 to 100."),
    ("promise_grace_days", "31", "Enter a number of days from 0 to 30."),
    ("promise_broken_limit", "0", "Enter a number from 1 to 20."),
    ("promise_broken_window", "366", "Enter a number of days from 1 to 365."),
    ("promise_minimum", "0", "Enter an amount greater than zero."),
    ("promise_minimum", "12,0000", "Enter a valid value."),
    ("care_days", "0", "Enter a number of days from 1 to 366."),
    ("care_days", "367", "Enter a number of days from 1 to 366."),
    ("care_days", "", "Enter a number of days from 1 to 366."),
    ("care_days", "9" * 30, "Enter a whole number"),
    ("promise_grace_days", "٣", "Enter a whole number"),
    ("servicing_date_changes", "13", "Enter a number from 0 to 12."),
    ("servicing_date_change_days", "0", "Enter a number of days from 1 to 31."),
    ("servicing_delay_days", "61", "Enter a number of days from 0 to 60."),
    ("servicing_skips", "-1", "Enter a number from 0 to 12."),
    ("servicing_max_term", "121", "Enter a number of months from 1 to 120."),
    ("servicing_max_term", "9" * 30, "Enter a whole number"),
])
def test_promises_care_and_servicing_values_out_of_bounds_are_refused_beside_their_field(
        risk, field, value, message):
    data = _form(risk)
    data.update({field: value, "publish": "Publish new version"})
    response = risk.post(f"{URL}cn/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = re.findall(rf'id="{field}-error">([^<]*)<', page)
    assert errors and message in errors[0]
    assert _db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_the_editors_messages_state_the_features_own_bounds():
    from portal.care import rules as care
    from portal.collections import promise_rules
    from portal.plans import servicing_rules
    from portal.policy import section_fields

    for name, key in section_fields.PROMISE_KEYS.items():
        low, high = promise_rules.BOUNDS[key]
        assert f"from {low} to {high}" in str(section_fields.FIELD_MESSAGES[name]), name
    assert f"from 1 to {care.MAX_DAYS}" in str(section_fields.FIELD_MESSAGES["care_days"])
    assert section_fields.FREEZABLE == care.FREEZABLE and section_fields.CARE_KINDS == care.KINDS
    for name, key in section_fields.SERVICING_KEYS.items():
        low, high = servicing_rules.BOUNDS[key]
        assert f"from {low} to {high}" in str(section_fields.FIELD_MESSAGES[name]), name
