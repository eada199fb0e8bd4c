"""Templates translate through a catalogue looked up once per request and language
(portal.i18n.translations, issue 15): a language forced for one message still wins inside
its block, and the request's language comes back after it."""
from flask import render_template_string
from flask_babel import force_locale, refresh

TEXT = '{{ _("Sign out") }}'


def test_templates_follow_the_request_language_and_a_forced_one(app, db):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(TEXT) == "Sign out"
        with force_locale("zh_Hans"):
            assert render_template_string(TEXT) == "退出登录"
        assert render_template_string(TEXT) == "Sign out"


def test_a_refreshed_language_is_looked_up_again(app, db):
    with app.test_request_context("/", headers={"Accept-Language": "en"}) as ctx:
        assert render_template_string(TEXT) == "Sign out"
        ctx.request.cookies = {"portal_locale": "zh_Hans"}
        refresh()
        assert render_template_string(TEXT) == "退出登录"
