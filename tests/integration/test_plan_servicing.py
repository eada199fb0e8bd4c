"""Issue 16, first bullet (schedule changes): a cardholder changes the payment date, delays
an instalment or skips one within the profile's "servicing" policy, sees the new schedule and
terms first, consents again; the agreement is re-issued, earlier versions stay retrievable,
every change is audited and shown to staff, and the nightly run follows the new dates."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.plans import lifecycle, servicing
from portal.plans.jobs import run_plan_monitoring
from portal.plans.models import InstalmentStatus, Plan, PlanRevision, PlanStatus
from portal.plans.servicing_rules import ServicingRefused
from tests.clock import TODAY
from tests.helpers import token_in
from tests.integration.plan_helpers import agree
from tests.pdf_reading import pdf_text, squeezed


@pytest.fixture()
def kept(make_cardholder, make_account):
    """An active six-month plan of CN¥1,000.00 a month from 5 December 2026 (grace 10 days)."""
    holder = make_cardholder(password="Correct-Horse-42")
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    plan = agree(account)
    _db.session.commit()
    assert plan.status == PlanStatus.ACTIVE
    return plan


def _base(plan):
    return f"/accounts/{plan.account_id}/plans/{plan.id}"


def _review(client, plan, **change):
    return client.get(f"{_base(plan)}/change/review", query_string=change)


def _confirm(client, plan, agree_box=True, terms_hash=None, **change):
    page = _review(client, plan, **change)
    assert page.status_code == 200, page.text
    text = page.get_data(as_text=True)
    shown = terms_hash or text.split('name="terms_hash" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": token_in(text), "terms_hash": shown, "kind": change["kind"],
            "seq": change.get("seq", ""), "new_date": change.get("new_date", "")}
    if agree_box:
        data["consent"] = "y"
    return client.post(f"{_base(plan)}/change/review", data=data)


def _plan(plan) -> Plan:
    _db.session.expire_all()
    return _db.session.get(Plan, plan.id)


def _dates(plan):
    return [i.due_date for i in _plan(plan).instalments]


def test_a_delay_is_shown_first_then_agreed_and_the_agreement_is_re_issued(client, login_as, kept):
    login_as(client, kept.account.cardholder)
    page = client.get(f"{_base(kept)}/change")
    assert page.status_code == 200
    assert "Pay one payment up to 14 days later" in page.text
    assert f'href="{_base(kept)}/change"' in client.get(_base(kept)).text
    before_text, before_hash = kept.terms_text, kept.terms_hash
    review = _review(client, kept, kind="delay", seq=1, new_date="2026-12-12")
    assert "Payment 1 is delayed to December 12, 2026." in review.text
    assert "Version 2 of this agreement: it replaces the version before." in review.text
    assert _dates(kept)[0] == date(2026, 12, 5)  # nothing changed by looking
    done = _confirm(client, kept, kind="delay", seq=1, new_date="2026-12-12")
    assert done.status_code == 302 and done.location.endswith(_base(kept))
    plan = _plan(kept)
    assert _dates(kept)[:2] == [date(2026, 12, 12), date(2027, 1, 5)]
    assert sum(i.amount for i in plan.instalments) == plan.total
    [rev] = _db.session.scalars(select(PlanRevision)).all()
    assert (rev.kind, rev.instalment_seq, rev.number, rev.actor_kind) == ("delay", 1, 1,
                                                                          "cardholder")
    assert rev.consent_ip and rev.consent_user_agent and rev.terms_locale == "en"
    assert rev.previous_terms_text == before_text and rev.previous_terms_hash == before_hash
    assert plan.terms_text == rev.terms_text and plan.terms_hash == rev.terms_hash != before_hash
    assert rev.schedule_before[0]["due_date"] == "2026-12-05"
    assert rev.schedule_after[0]["due_date"] == "2026-12-12"
    event = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "plan.schedule_changed")).one()
    assert event.actor_type == "cardholder"
    current = squeezed(pdf_text(client.get(f"{_base(kept)}/agreement.pdf").data))
    assert squeezed("1. December 12, 2026") in current and rev.terms_hash in current
    first = squeezed(pdf_text(client.get(f"{_base(kept)}/agreements/1.pdf").data))
    assert squeezed("1. December 5, 2026") in first and before_hash in first
    assert client.get(f"{_base(kept)}/agreements/3.pdf").status_code == 404
    shown = client.get(_base(kept)).text
    assert "Changes to this plan" in shown and "Payment 1 is delayed to December 12, 2026." in shown
    assert f"{_base(kept)}/agreements/2.pdf" in shown


def test_the_staff_plan_page_lists_the_changes(client, login_as, kept, make_staff):
    login_as(client, kept.account.cardholder)
    _confirm(client, kept, kind="skip", seq=2)
    client.get("/logout")
    staff = client.application.test_client()
    login_as(staff, make_staff("collector"))
    page = staff.get(f"/staff/plans/{kept.id}")
    assert "Changes to this plan" in page.text
    assert "Payment 2 is skipped and added at the end of the plan." in page.text
    assert "Agreed online by the cardholder." in page.text


def test_a_skip_moves_the_payment_to_the_end_and_a_date_change_moves_the_rest(
        client, login_as, kept):
    login_as(client, kept.account.cardholder)
    assert _confirm(client, kept, kind="skip", seq=2).status_code == 302
    assert _dates(kept) == [date(2026, 12, 5), date(2027, 2, 5), date(2027, 3, 5),
                            date(2027, 4, 5), date(2027, 5, 5), date(2027, 6, 5)]
    assert _confirm(client, kept, kind="date_change", new_date="2026-12-15").status_code == 302
    assert _dates(kept) == [date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15),
                            date(2027, 3, 15), date(2027, 4, 15), date(2027, 5, 15)]
    plan = _plan(kept)
    assert [i.seq for i in plan.instalments] == [1, 2, 3, 4, 5, 6]
    assert sum(i.amount for i in plan.instalments) == plan.total
    assert [r.number for r in servicing.revisions_of(plan)] == [1, 2]


@pytest.mark.parametrize("first, second, message", [
    (dict(kind="delay", seq=1, new_date="2026-12-10"),
     dict(kind="delay", seq=1, new_date="2026-12-12"),
     "This payment has already been delayed once."),
    (dict(kind="skip", seq=2), dict(kind="skip", seq=3),
     "You have already made the changes of this kind that your plan allows."),
])
def test_limits_are_counted_from_the_changes_recorded(client, login_as, kept, first, second,
                                                      message):
    login_as(client, kept.account.cardholder)
    assert _confirm(client, kept, **first).status_code == 302
    refused = _review(client, kept, **second)
    assert refused.status_code == 302
    assert message in client.get(refused.location).text
    assert _db.session.scalar(select(func.count(PlanRevision.id))) == 1


@pytest.mark.parametrize("change, message", [
    (dict(kind="delay", seq=1, new_date="2026-12-20"),
     "A payment can be delayed by at most 14 days."),
    (dict(kind="date_change", new_date="2026-12-25"),
     "The payment date can move by at most 15 days."),
    (dict(kind="date_change", new_date="2026-11-27"),
     "Choose a date from today on, after the payment"),
    (dict(kind="delay", seq=9, new_date="2026-12-10"), "Choose one of the payments still to make."),
    (dict(kind="skip"), "Choose a payment and a date for the change."),
    (dict(kind="evil", seq="x", new_date="<script>"),
     "Choose a payment and a date for the change."),
])
def test_a_change_outside_the_policy_is_refused_with_a_clear_message(client, login_as, kept,
                                                                      change, message):
    login_as(client, kept.account.cardholder)
    refused = _review(client, kept, **change)
    assert refused.status_code == 302
    assert message in client.get(refused.location).get_data(as_text=True).replace("&#39;", "'")
    assert _dates(kept)[0] == date(2026, 12, 5)


def test_a_paid_instalment_or_an_ended_plan_cannot_be_changed(client, login_as, kept):
    login_as(client, kept.account.cardholder)
    first = _plan(kept).instalments[0]
    first.paid_amount, first.status = first.amount, InstalmentStatus.PAID
    _db.session.commit()
    refused = _review(client, kept, kind="skip", seq=1)
    assert "This payment is already made" in client.get(refused.location).text
    plan = _plan(kept)
    plan.status = PlanStatus.CANCELLED
    _db.session.commit()
    refused = client.get(f"{_base(kept)}/change")
    assert refused.status_code == 302
    assert "Only an active plan can be changed." in client.get(refused.location).text
    assert _review(client, kept, kind="skip", seq=2).status_code == 302


def test_without_consent_or_with_other_terms_nothing_changes(client, login_as, kept):
    login_as(client, kept.account.cardholder)
    unticked = _confirm(client, kept, agree_box=False, kind="delay", seq=1, new_date="2026-12-12")
    assert unticked.status_code == 422 and "Tick the box to agree to the terms." in unticked.text
    stale = _confirm(client, kept, terms_hash="0" * 64, kind="delay", seq=1,
                     new_date="2026-12-12")
    assert stale.status_code == 422 and "The terms changed while you were reading them" in stale.text
    assert _dates(kept)[0] == date(2026, 12, 5)
    assert _db.session.scalar(select(func.count(PlanRevision.id))) == 0


def test_a_delayed_instalment_is_not_missed_on_its_old_date(client, login_as, kept, clock):
    login_as(client, kept.account.cardholder)
    _confirm(client, kept, kind="delay", seq=1, new_date="2026-12-12")
    run_plan_monitoring(date(2026, 12, 8))
    assert _plan(kept).instalments[0].status == InstalmentStatus.DUE
    run_plan_monitoring(date(2026, 12, 13))
    assert _plan(kept).instalments[0].status == InstalmentStatus.MISSED


def test_a_missed_instalment_delayed_is_due_again_and_the_plan_does_not_break(
        client, login_as, kept, clock):
    run_plan_monitoring(date(2026, 12, 7))
    assert _plan(kept).instalments[0].status == InstalmentStatus.MISSED
    clock.move_to(date(2026, 12, 7))
    login_as(client, kept.account.cardholder)
    assert _confirm(client, kept, kind="delay", seq=1, new_date="2026-12-19").status_code == 302
    assert _plan(kept).instalments[0].status == InstalmentStatus.DUE
    run_plan_monitoring(date(2026, 12, 17))  # past the old date's grace (15 December)
    plan = _plan(kept)
    assert plan.status == PlanStatus.ACTIVE
    assert plan.instalments[0].status == InstalmentStatus.DUE


def test_the_pages_read_in_chinese(client, login_as, make_cardholder, make_account):
    holder = make_cardholder(password="Correct-Horse-42", locale="zh_Hans")
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    plan = agree(account)
    _db.session.commit()
    login_as(client, holder)
    page = client.get(f"{_base(plan)}/change").text
    assert "更改还款计划" in page and "Change your plan" not in page
    review = _review(client, plan, kind="skip", seq=2).text
    assert "第 2 期还款跳过，并加到计划末尾。" in review


def test_publishing_refuses_a_servicing_section_the_code_cannot_use(app):
    from portal.policy.rules import PolicyError, validate_document
    from portal.policy.services import shipped_document

    for profile in ("cn", "us"):
        doc = shipped_document(profile)
        assert validate_document(doc) == []
        doc["servicing"]["delay_max_days"] = 90
        assert PolicyError("invalid", "servicing.delay_max_days") in validate_document(doc)


def test_the_service_refuses_a_second_delay_and_terms_other_than_those_shown(kept):
    change = servicing.Change("delay", 1, date(2026, 12, 12))
    shown = servicing.preview(kept, change, TODAY, "en")
    consent = lifecycle.Consent(shown.hash, "en", None, None, kept.accepted_at)
    servicing.apply(kept, change, consent, TODAY, actor=("cardholder", 1))
    with pytest.raises(ServicingRefused, match="already_delayed"):  # once per instalment
        servicing.apply(kept, servicing.Change("delay", 1, date(2026, 12, 14)), consent, TODAY,
                        actor=("cardholder", 1))
    with pytest.raises(lifecycle.PlanError, match="terms_changed"):  # not the terms shown
        servicing.apply(kept, servicing.Change("skip", 3), consent, TODAY,
                        actor=("cardholder", 1))
    assert [r.number for r in servicing.revisions_of(kept)] == [1]


def test_risk_edits_the_servicing_section_in_the_json_editor(client, login_as, make_staff):
    import html as html_lib
    import json
    import re

    login_as(client, make_staff("risk"))
    url = "/staff/risk/plan-limits"
    page = client.get(f"{url}?profile=us&advanced=servicing").get_data(as_text=True)
    section = json.loads(html_lib.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page,
                                                     re.S).group(1)))
    assert section["delay_max_days"] == 10
    draft = {"csrf_token": token_in(page), "profile": "us", "advanced": "servicing",
             "effective_from": "2030-01-01"}
    bad = client.post(url, data={**draft, "preview": "1",
                                 "section": json.dumps({**section, "skips_per_plan": "two"})})
    assert bad.status_code == 422 and "servicing.skips_per_plan: invalid" in bad.text
    section["skips_per_plan"] = 2
    preview = client.post(url, data={**draft, "preview": "1", "section": json.dumps(section)})
    assert preview.status_code == 200 and "skips_per_plan" in preview.text
    fingerprint = re.search(r'name="draft"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="draft"',
                            preview.text)
    done = client.post(url, data={**draft, "section": json.dumps(section), "confirm": "y",
                                  "publish": "1",
                                  "draft": fingerprint.group(1) or fingerprint.group(2)})
    assert done.status_code == 302
    from portal.policy.services import policy_for
    assert policy_for("us", date(2030, 1, 1)).section("servicing")["skips_per_plan"] == 2
    assert policy_for("us", date(2030, 1, 1)).section("plans") == \
        policy_for("us", TODAY).section("plans")


def test_the_plan_is_named_by_its_new_first_payment_and_keeps_its_cost_basis(client, login_as,
                                                                             kept):
    login_as(client, kept.account.cardholder)
    start = kept.terms_start
    _confirm(client, kept, kind="date_change", new_date="2026-12-15")
    plan = _plan(kept)
    assert plan.first_date == date(2026, 12, 15) and plan.terms_start == start
    assert "6 payments from December 15, 2026" in client.get(_base(kept)).text


def test_a_one_payment_plan_cannot_be_skipped(client, login_as, make_cardholder, make_account):
    from tests.integration.plan_helpers import spec

    holder = make_cardholder(password="Correct-Horse-42")
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    plan = agree(account, spec(kind="deferral", count=1))
    _db.session.commit()
    login_as(client, holder)
    refused = _review(client, plan, kind="skip", seq=1)
    assert "This change is not available for your plan." in client.get(refused.location).text


@pytest.mark.parametrize("values", [
    {"kind": "date_change", "new_date": "9999-12-31"},
    {"kind": "date_change", "new_date": "0001-01-01"},
    {"kind": "delay", "seq": "99999999999999999999", "new_date": "2026-12-10"},
    {"kind": "delay", "seq": "-1", "new_date": "2026-02-30"},
    {"kind": "skip", "seq": "١"},
    {"kind": "skip", "seq": "2", "new_date": "x" * 1000},
])
def test_hostile_values_get_a_message_and_change_nothing(client, login_as, kept, values):
    login_as(client, kept.account.cardholder)
    token = token_in(client.get(f"{_base(kept)}/change").text)
    for response in (_review(client, kept, **values),
                     client.post(f"{_base(kept)}/change/review",
                                 data={**values, "csrf_token": token, "consent": "y",
                                       "terms_hash": "f" * 64})):
        assert response.status_code in (302, 400, 422), response.status_code
    assert _dates(kept)[0] == date(2026, 12, 5)
    assert _db.session.scalar(select(func.count(PlanRevision.id))) == 0
