"""Issue 16's loose ends in the policy pages: the read-only version page shows the promises,
care and servicing sections; the editor form has fields for `servicing` like those for
`promises` and `care` (prefilled and published here; refused beside the field when out of
bounds in tests/integration/test_policy_editor.py)."""
import re
from datetime import date

from portal.i18n import LOCALE_COOKIE
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
