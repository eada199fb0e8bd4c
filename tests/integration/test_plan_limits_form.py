"""The risk team's plan-limits form: prefilled from the version in force, field messages on
bad input, a preview of what changes, and publishing a new version (stage overrides kept)."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.policy.models import PolicyVersion

URL = "/staff/risk/plan-limits"


class _FormValues(HTMLParser):
    """What a browser would submit from the page's POST form, as it stands."""

    def __init__(self):
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._in_post = False
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_post = a.get("method") == "post"
        if not self._in_post:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((a["name"], a.get("value", "on")))
            elif a.get("type") != "submit":
                self.values.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._first, self._chosen = a.get("name"), None, False
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = a.get("value", "")
            if "selected" in a:
                self.values.append((self._select, a.get("value", "")))
                self._chosen = True

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._chosen:  # a browser sends the first option
                self.values.append((self._select, self._first or ""))
            self._select = None
        if tag == "form":
            self._in_post = False


def form_of(page: str) -> dict[str, list[str]]:
    parser = _FormValues()
    parser.feed(page)
    found: dict[str, list[str]] = {}
    for name, value in parser.values:
        found.setdefault(name, []).append(value)
    return found


@pytest.fixture()
def risk(client, login_as, make_staff):
    login_as(client, make_staff("risk"))
    return client


def _get(client, profile="cn"):
    response = client.get(f"{URL}?profile={profile}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _post(client, data, button="publish"):
    """Press `button`; publishing previews the draft first and ticks the confirmation, as
    the page asks."""
    payload = {k: v for k, v in data.items()}
    if button == "publish":
        preview = client.post(URL, data={**payload, "preview": "1"}).get_data(as_text=True)
        draft = form_of(preview).get("draft", [""])
        payload.update(draft=draft, confirm="y")
    payload[button] = "1"
    return client.post(URL, data=payload)


def _versions(profile="cn"):
    return _db.session.scalars(select(PolicyVersion).where(PolicyVersion.profile == profile)).all()


def test_form_is_prefilled_from_the_version_in_force(risk):
    page = _get(risk)
    values = form_of(page)
    assert values["limits-max_instalments"] == ["60"]
    assert values["auto_approval-max_instalments"] == ["12"]
    assert values["limits-min_instalment_CNY"] == ["100.00"]
    assert values["auto_approval-max_total_CNY"] == ["50000.00"]
    assert values["authority-max_concession_CNY"] == ["3000.00"]
    assert values["limits-plan_types"] == ["instalment", "settlement", "deferral"]
    assert values["auto_approval-frequencies"] == ["fortnightly", "monthly"]
    assert values["limits-fees_waived"] == ["yes"] and values["auto_approval-fees_waived"] == ["no"]
    assert values["auto_approval-min_instalments"] == [""]  # inherits the plan limit
    assert '<label for="limits-grace_days">' in page
    assert "Grace before a missed instalment breaks the plan (days)" in page


def test_us_profile_shows_its_own_currency(risk):
    values = form_of(_get(risk, "us"))
    assert values["limits-min_instalment_USD"] == ["25.00"]
    assert "limits-min_instalment_CNY" not in values


def test_preview_lists_the_changes_and_publishes_nothing(risk):
    data = form_of(_get(risk))
    data["limits-max_instalments"] = ["48"]
    data["auto_approval-frequencies"] = ["weekly", "fortnightly", "monthly"]
    data["limits-min_instalment_CNY"] = ["150"]
    response = _post(risk, data, "preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "What changes" in page
    assert "<td>Most instalments</td><td>60</td><td>48</td>" in page
    assert ("<td>Payment frequencies</td><td>Every two weeks, Monthly</td>"
            "<td>Weekly, Every two weeks, Monthly</td>") in page
    assert "<td>100.00 CNY</td><td>150.00 CNY</td>" in page
    assert _versions() == []
    assert form_of(page)["limits-max_instalments"] == ["48"]  # the edit is kept on the page


def test_publish_makes_a_new_version_and_keeps_stage_overrides(risk):
    data = form_of(_get(risk))
    data["limits-max_instalments"] = ["48"]
    data["auto_approval-max_total_CNY"] = [""]  # blank: no cap of its own
    data["authority-max_instalments"] = ["30"]
    data["effective_from"] = ["2030-01-01"]
    data["note"] = ["Shorter plans"]
    response = _post(risk, data)
    assert response.status_code == 302
    [row] = _versions()
    plans = row.document["plans"]
    assert row.version == 2 and row.effective_from.isoformat() == "2030-01-01"
    assert plans["limits"]["max_instalments"] == 48
    assert "max_total" not in plans["auto_approval"]
    assert plans["authority"]["collector"] == {"max_concession": {"CNY": 300000},
                                               "max_instalments": 30}
    assert plans["stages"]["m3"]["auto_approval"]["max_instalments"] == 24
    assert plans["limits"]["min_instalment"] == {"CNY": 10000}
    assert _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.publish"))


def test_rule_errors_are_shown_on_their_fields_and_nothing_is_published(risk):
    data = form_of(_get(risk))
    data["limits-min_instalments"] = ["12"]
    data["limits-max_instalments"] = ["6"]
    data["auto_approval-settlement_discount_percent"] = ["45"]
    response = _post(risk, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="limits-max_instalments-error"' in page
    assert "The most instalments cannot be fewer than the fewest." in page
    assert 'id="auto_approval-settlement_discount_percent-error"' in page
    assert "Automatic approval cannot allow more than the plan limits." in page
    assert "Nothing was published." in page
    data = form_of(_get(risk))
    data["limits-min_down_payment_percent"] = ["120"]
    page = _post(risk, data).get_data(as_text=True)
    assert 'id="limits-min_down_payment_percent-error"' in page
    assert "Enter a percentage from 0 to 100." in page
    assert _versions() == []


@pytest.mark.parametrize("envelope,field", [
    ({"auto_approval-interest": ["reduced"], "auto_approval-interest_rate_percent": ["2"]},
     "auto_approval-interest_rate_percent"),
    ({"auto_approval-interest": ["frozen"], "auto_approval-interest_rate_percent": [""]},
     "auto_approval-interest"),
])
def test_automatic_approval_cannot_give_up_more_interest_than_the_limits(risk, envelope, field):
    data = form_of(_get(risk))
    data["limits-interest"] = ["reduced"]
    data["limits-interest_rate_percent"] = ["5"]
    data.update(envelope)
    response = _post(risk, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert "Automatic approval cannot allow more than the plan limits." in page
    assert _versions() == []
    data["auto_approval-interest"] = [""]  # same as the plan limits: 5 % is allowed
    data["auto_approval-interest_rate_percent"] = [""]
    assert _post(risk, data).status_code == 302
    assert _versions()[0].document["plans"]["limits"]["interest_rate_percent"] == "5"


def test_unreadable_amounts_and_missing_values_get_field_messages(risk):
    data = form_of(_get(risk))
    data["limits-min_instalment_CNY"] = ["a hundred"]
    data["limits-grace_days"] = [""]
    data["limits-plan_types"] = []
    response = _post(risk, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an amount in numbers only, such as 1250.50." in page or "Enter a value." in page
    assert 'id="limits-grace_days-error"' in page
    assert _versions() == []
    data = form_of(_get(risk))
    data["limits-min_instalment_CNY"] = ["a hundred"]
    page = _post(risk, data).get_data(as_text=True)
    assert 'id="limits-min_instalment_CNY-error"' in page
    assert "Enter an amount in numbers only, such as 1250.50." in page
    data["limits-min_instalment_CNY"] = ["1,00"]  # a comma that does not group thousands
    assert 'id="limits-min_instalment_CNY-error"' in _post(risk, data).get_data(as_text=True)
    assert _versions() == []
    data = form_of(_get(risk))
    data["limits-plan_types"] = []
    page = _post(risk, data).get_data(as_text=True)
    assert "Choose at least one." in page


def test_an_effective_date_in_the_past_is_refused(risk):
    data = form_of(_get(risk))
    data["effective_from"] = ["2020-01-01"]
    response = _post(risk, data)
    assert response.status_code == 422
    assert "The date cannot be in the past." in response.get_data(as_text=True)
    assert _versions() == []


@pytest.mark.parametrize("role", ("collector", "collections_manager", "customer_service",
                                  "legal", "admin"))
def test_only_risk_may_publish(client, login_as, make_staff, role):
    login_as(client, make_staff(role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, data={"publish": "1"}).status_code in (400, 403)
