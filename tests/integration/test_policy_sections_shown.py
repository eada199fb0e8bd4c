"""Issue 16's loose ends in the policy pages: the read-only version page shows the promises,
care and servicing sections; the editor form has fields for `servicing` like those for
`promises` and `care` (prefilled, published, refused beside the field when out of bounds)."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.i18n import LOCALE_COOKIE
from portal.policy.models import PolicyVersion
from portal.policy.services import policy_for
from tests.integration.test_policy_editor import URL, _form, previewed, risk  # noqa: F401


def _facts(page):
    """The <dt>/<dd> pairs of a page, tags and spacing removed."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S)
    return {re.sub(r"\s+", " ", dt).strip(): re.sub(r"<[^>]+>", " ", dd).split()
            for dt, dd in pairs}


def test_the_version_page_shows_promises_care_and_servicing(risk):  # noqa: F811
    page = risk.get(f"{URL}cn/v1").text
    for heading in ("Promises to pay", "Breathing space and extra support",
                    "Changing agreed plans"):
        assert f"<h2>{heading}</h2>" in page
    facts = _facts(page.replace("&#39;", "'"))
    assert facts["Latest promised date, in days from the cardholder's today"] == ["14"]
    assert facts["Smallest promise, in the profile's currency"] == ["CN¥100.00"]
    assert facts["Days in a standard breathing space"] == ["60"]
    assert " ".join(facts["Needs extra support (vulnerability)"]) == (
        "Freezes further steps on the account")
    assert facts["Cardholders may move the payment date of their plan"] == ["Yes"]
    assert facts["Days one payment may be delayed (0: no delays)"] == ["14"]
    assert facts["Longest plan after changes, in months from its start"] == ["60"]
    assert "Rule: Issuer&#39;s choice within the 2011 Measures" in page


def test_the_version_page_reads_in_chinese(risk):  # noqa: F811
    risk.set_cookie(LOCALE_COOKIE, "zh_Hans")
    page = risk.get(f"{URL}cn/v1").text
    assert "更改已同意的计划" in page and "单期还款可延期的天数（0：不允许延期）" in page
    assert "Changing agreed plans" not in page


def test_servicing_has_prefilled_fields_and_edits_are_published(risk):  # noqa: F811
    data = _form(risk)
    assert (data["servicing_date_changes"], data["servicing_date_change_days"],
            data["servicing_delay_days"], data["servicing_skips"],
            data["servicing_max_term"]) == ("2", "15", "14", "1", "60")
    assert data["servicing_date_change_allowed"] == "y"
    effective = date.fromisoformat(data["effective_from"])
    data.update(servicing_delay_days="7", servicing_skips="")
    data.pop("servicing_date_change_allowed")
    assert risk.post(f"{URL}cn/new", data=previewed(risk, data)).status_code == 302
    servicing = policy_for("cn", effective).section("servicing")
    assert servicing["delay_max_days"] == 7 and "skips_per_plan" not in servicing  # default
    assert servicing["date_change_allowed"] is False
    assert servicing["rule"].startswith("Issuer's choice")  # the rule is kept


@pytest.mark.parametrize("field, value, message", [
    ("servicing_date_changes", "13", "Enter a number from 0 to 12."),
    ("servicing_date_change_days", "0", "Enter a number of days from 1 to 31."),
    ("servicing_delay_days", "61", "Enter a number of days from 0 to 60."),
    ("servicing_skips", "-1", "Enter a number from 0 to 12."),
    ("servicing_max_term", "121", "Enter a number of months from 1 to 120."),
    ("servicing_max_term", "9" * 30, "Enter a whole number"),
])
def test_servicing_values_out_of_bounds_are_refused_beside_their_field(
        risk, field, value, message):  # noqa: F811
    data = _form(risk)
    data.update({field: value, "publish": "Publish new version"})
    response = risk.post(f"{URL}cn/new", data=data)
    assert response.status_code == 422
    errors = re.findall(rf'id="{field}-error">([^<]*)<', response.text)
    assert errors and message in errors[0]
    assert _db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_the_servicing_messages_state_the_features_own_bounds():
    from portal.plans import servicing_rules
    from portal.policy import section_fields

    for name, key in section_fields.SERVICING_KEYS.items():
        low, high = servicing_rules.BOUNDS[key]
        assert f"from {low} to {high}" in str(section_fields.FIELD_MESSAGES[name]), name
