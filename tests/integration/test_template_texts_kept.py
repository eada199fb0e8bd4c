"""Templates' `_` and `gettext` with their texts kept per catalogue (portal.i18n, issue 15)
give what Jinja's newstyle gettext gives: each language its own text, `%%` and values
formatted, escaping as before, a `force_locale` block its own language."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale
from jinja2 import Environment

from portal.i18n import LOCALE_COOKIE, translations

SOURCE = ('{{ _("Payments") }}|{{ _("Pages") }}|{{ gettext("Payments") }}|{{ _("100%% sure") }}|'
          '{{ _("Page %(n)s", n=3) }}|{{ _("Page %(n)s", n="<b>") }}|'
          '{% trans n=7 %}Page {{ n }}{% endtrans %}|{{ _("<i>") }}')


def _jinja_newstyle() -> Environment:
    """What the portal's templates did before: Jinja's own newstyle callables."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    env.install_gettext_callables(gettext=lambda s: translations().ugettext(s),
                                  ngettext=lambda s, p, n: translations().ungettext(s, p, n),
                                  newstyle=True)
    return env


def test_kept_template_texts_read_as_jinja_newstyle_gettext_in_each_language(app):
    before = _jinja_newstyle().from_string(SOURCE)
    seen = {}
    for language in ("en", "zh_Hans", "en", "zh_Hans"):
        with app.test_request_context(headers={"Cookie": f"{LOCALE_COOKIE}={language}"}):
            expected = before.render()
            assert render_template_string(SOURCE) == expected
            assert render_template_string(SOURCE) == expected  # kept the second time
            seen[language] = expected
    assert seen["en"].startswith("Payments|Pages|Payments|100% sure|Page 3|Page &lt;b&gt;|Page 7|")
    assert seen["en"].endswith("|<i>")  # a translation is markup, as Jinja has it
    assert seen["zh_Hans"].split("|")[0] != "Payments"  # the Chinese catalogue's text


def test_a_force_locale_block_reads_its_own_language(app):
    with app.test_request_context(headers={"Cookie": f"{LOCALE_COOKIE}=en"}):
        english = render_template_string('{{ _("Payments") }}')
        with force_locale("zh_Hans"):
            chinese = render_template_string('{{ _("Payments") }}')
        assert render_template_string('{{ _("Payments") }}') == english == "Payments"
        assert chinese != english
