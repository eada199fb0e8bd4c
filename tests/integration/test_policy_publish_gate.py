"""Publishing a policy needs the preview of that exact draft, then a confirmation; every
number in a policy has bounds (issue 12, finding 9 and the policy requirement)."""
import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.policy.models import PolicyVersion
from portal.policy.rules import PolicyInvalid, parse_policy
from portal.policy.services import policy_for, publish
from tests.integration.test_policy_editor import URL, _form, previewed, risk  # noqa: F401

NOT_PREVIEWED = "The draft is not the one previewed"
NOT_CONFIRMED = "Tick the box to confirm"


def _versions() -> int:
    return _db.session.scalar(select(func.count()).select_from(PolicyVersion))


def test_publishing_without_a_preview_publishes_nothing_and_shows_the_preview(risk):
    data = {**_form(risk), "day_card_block": "75", "publish": "Publish new version",
            "confirm": "y"}
    response = risk.post(f"{URL}cn/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert NOT_PREVIEWED in html and "Effect if published" in html
    assert _versions() == 0


def test_the_edit_page_offers_publishing_only_with_a_preview(risk):
    assert 'name="publish"' not in risk.get(f"{URL}cn/new").get_data(as_text=True)


def test_a_draft_changed_after_its_preview_is_not_published(risk):
    ready = previewed(risk, {**_form(risk), "day_card_block": "75"})
    response = risk.post(f"{URL}cn/new", data={**ready, "day_card_block": "90"})
    assert response.status_code == 422 and NOT_PREVIEWED in response.get_data(as_text=True)
    assert _versions() == 0


def test_a_preview_is_void_once_another_version_is_published(risk, make_staff):
    ready = previewed(risk, {**_form(risk), "day_card_block": "75"})
    other = {**_form(risk), "day_card_block": "80"}
    assert risk.post(f"{URL}cn/new", data=previewed(risk, other)).status_code == 302
    response = risk.post(f"{URL}cn/new", data=ready)
    assert response.status_code == 422 and NOT_PREVIEWED in response.get_data(as_text=True)
    assert _versions() == 1


def test_publishing_needs_the_confirmation_ticked(risk):
    ready = previewed(risk, {**_form(risk), "day_card_block": "75"})
    ready.pop("confirm")
    response = risk.post(f"{URL}cn/new", data=ready)
    assert response.status_code == 422 and NOT_CONFIRMED in response.get_data(as_text=True)
    assert _versions() == 0


@pytest.mark.parametrize("field,value", [("stage_m1", str(10**26)), ("stage_m1", "3651"),
                                         ("day_card_block", "4000"), ("pay_by_days", "366"),
                                         ("day_card_block", "٣٠"), ("stage_m1", "+40")])
def test_policy_numbers_beyond_their_bounds_are_refused_beside_the_field(risk, field, value):
    response = risk.post(f"{URL}cn/new", data={**_form(risk), field: value,
                                                "preview": "Preview the effect"})
    assert response.status_code == 422
    assert _versions() == 0


def test_the_policy_rules_refuse_days_and_amounts_beyond_their_bounds(db):
    document = dict(policy_for("cn", date(2026, 11, 28)).document)
    document["consequences"] = {**document["consequences"], "card_block": {
        **document["consequences"]["card_block"], "dpd": 10**26}}
    document["late_fee"] = {**document["late_fee"], "max": 10**20}
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(document, profile="cn", version=9, effective_from=date(2027, 1, 1))
    codes = {(e.path, e.code) for e in refused.value.errors}
    assert ("consequences.card_block.dpd", "day_too_large") in codes
    assert ("late_fee.max", "amount_too_large") in codes
    with pytest.raises(PolicyInvalid):
        publish("cn", document, date(2027, 1, 1), today=date(2026, 11, 28))


@pytest.mark.parametrize("path", ["/staff/risk/plan-limits?profile=cn",
                                  "/staff/risk/plan-limits?profile=cn&advanced=1"])
def test_plan_limits_are_not_published_without_their_preview(risk, path):
    from tests.helpers import token_in
    from tests.integration.test_plan_limits_form import form_of

    page = risk.get(path).get_data(as_text=True)
    assert 'name="publish"' not in page
    data = {k: v for k, v in form_of(page).items()}
    data.update(csrf_token=token_in(page), profile="cn", publish="1", confirm="y",
                effective_from="2030-01-01")
    if "advanced" in path:
        textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
        data.update(advanced="1", section=html.unescape(textarea))
    response = risk.post("/staff/risk/plan-limits", data=data)
    assert response.status_code == 422
    assert NOT_PREVIEWED in response.get_data(as_text=True)
    assert _versions() == 0
