"""Filter forms drawn once per language (portal.core.fragments, issue 15): a staff list's
page reads exactly as it did when every request drew its form, whatever was asked before it,
and nothing typed into a filter reaches another request's page."""
from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField

from portal.core import fragments
from portal.i18n import LOCALE_COOKIE
from tests.integration.test_staff_payments_list import payments  # noqa: F401 - a fixture

PAGES = ("/staff/payments", "/staff/payments?page=2", "/staff/payments?status=",
         "/staff/payments?status=failed", "/staff/payments?date_from=2026-13-01",
         "/staff/payments?account=6200000000101", "/staff/plans", "/staff/plans?status=",
         "/staff/plans?status=active", "/staff/plans?status=bogus")


def _pages(client, app) -> tuple[list[str], int]:
    """Every page in en, zh_Hans and en again, forwards and back (CSRF tokens blanked), and
    how many forms were kept."""
    bodies = []
    for language in ("en", "zh_Hans", "en"):
        client.set_cookie(LOCALE_COOKIE, language, domain="localhost")
        for path in PAGES + PAGES[::-1]:
            body = client.get(path).get_data(as_text=True)
            bodies.append(re.sub(r'name="csrf_token" value="[^"]*"', "", body))
    return bodies, len(app.extensions.pop("kept_forms", {}))


@pytest.mark.usefixtures("payments")
def test_kept_forms_give_the_pages_every_request_drawing_its_form_gives(
        app, client, login_as, make_staff, monkeypatch):
    login_as(client, make_staff("collections_manager"))
    app.extensions.pop("kept_forms", None)
    kept, forms = _pages(client, app)
    assert forms == 8  # 2 lists x 2 languages x (no status, empty status)
    monkeypatch.setattr(fragments, "_blank_key", lambda form: None)  # draw every time
    drawn, forms = _pages(client, app)
    assert forms == 0 and kept == drawn


@pytest.mark.usefixtures("payments")
def test_what_was_typed_is_never_kept(app, client, login_as, make_staff):
    login_as(client, make_staff("collections_manager"))
    app.extensions.pop("kept_forms", None)
    assert 'value="6200000000101"' in client.get(
        "/staff/payments?account=6200000000101").get_data(as_text=True)
    assert 'selected value="failed"' in client.get(
        "/staff/payments?status=failed").get_data(as_text=True)
    blank = client.get("/staff/payments").get_data(as_text=True)
    assert "6200000000101\"" not in blank and 'selected value="failed"' not in blank
    for key in app.extensions["kept_forms"]:
        assert all(not any(raw) for _name, raw, _data, _choices in key[-1])


def test_a_choice_given_another_lazy_label_is_drawn_again(app):
    class Filter(Form):
        status = SelectField(choices=[("", _l("Any status"))])

    app.extensions.pop("kept_forms", None)
    drawn = []
    for label in (_l("Any status"), _l("Payments"), _l("Any status")):
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            form = Filter(formdata=MultiDict())
            form.status.choices = [("", label)]
            drawn.append(str(fragments.kept_form("test.filter", form, lambda: str(form.status))))
    assert ">Any status<" in drawn[0] and ">Payments<" in drawn[1] and drawn[2] == drawn[0]
    assert len(app.extensions.pop("kept_forms")) == 2
