"""Locale and time zone for each request: the user's choice, then cookie, then browser."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

LOCALE_COOKIE = "portal_locale"
LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}


def _supported(value: str | None) -> str | None:
    if value in current_app.config["LANGUAGES"]:
        return value
    return None


def select_locale() -> str:
    chosen = _supported(request.cookies.get(LOCALE_COOKIE))
    if chosen:
        return chosen
    user = current_user
    if user and user.is_authenticated and not user.is_staff and _supported(user.locale):
        return user.locale
    # Accept-Language says zh-CN / zh-Hans; both map to our zh_Hans catalogue.
    best = request.accept_languages.best_match(["en", "zh-Hans", "zh-CN", "zh", "zh-SG"])
    return "zh_Hans" if best and best.startswith("zh") else "en"


def select_timezone() -> str:
    user = current_user
    if user and user.is_authenticated and not user.is_staff:
        return user.timezone
    return "UTC"


def translations():
    """This request's catalogue, as flask_babel's `get_translations()` gives it, looked up once
    per request and language: flask_babel asks its request context three times and formats the
    locale's name for every text, a dozen times a page (issue 15). Inside `force_locale` (a
    message in the recipient's language) the language differs, so the catalogue is looked up
    again. Relies on flask_babel 4 keeping the request's locale in `g._flask_babel`."""
    try:
        ctx = g._flask_babel
        locale = ctx.babel_locale
        kept_locale, catalogue = ctx.portal_translations
    except (AttributeError, RuntimeError):  # not looked up yet, or outside an app context
        return _look_up()
    if kept_locale is locale or kept_locale == locale:
        return catalogue
    return _look_up()


def _look_up():
    catalogue = get_translations()
    ctx = g.get("_flask_babel") if g else None
    locale = getattr(ctx, "babel_locale", None)
    if locale is not None:
        ctx.portal_translations = (locale, catalogue)
    return catalogue


def install_template_gettext(app) -> None:
    """Templates' `_`, `gettext`, `ngettext`, ... through `translations()`, as flask_babel
    installs them (newstyle, so `%` formatting and autoescaping are Jinja's), after
    `babel.init_app`."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    # `_` called Jinja's `gettext` through the context; both are now the kept lookup
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext)


# Texts a template translated without values, per catalogue (kept on the catalogue object, so
# a catalogue dropped or made for one call takes its texts with it), at most this many.
_TEXTS_KEPT = 4096


@pass_context
def _template_gettext(__context, __string, **variables):
    """Templates' `_` and `gettext`: what Jinja's newstyle `gettext` gives (the catalogue's
    text, as Markup when autoescaping, `%`-formatted with the values), the text and, without
    values, the formatted result kept per catalogue: a staff page translates 10-20 fixed texts,
    each through two of Jinja's context calls, flask_babel's lookups and `Markup % {}` (issue
    15). The catalogue is this request's (`translations()`), so another language, or a
    `force_locale` block, reads its own."""
    catalogue = translations()
    kept = catalogue.__dict__.setdefault("portal_template_texts", {})
    key = (__string, __context.eval_ctx.autoescape, not variables)
    text = kept.get(key)
    if text is None:
        text = catalogue.ugettext(__string)
        if __context.eval_ctx.autoescape:
            text = Markup(text)
        if not variables:
            text = text % variables  # as Jinja's, "%%" reads "%"; an error is raised, not kept
        if len(kept) >= _TEXTS_KEPT:
            kept.clear()
        kept[key] = text
    return text % variables if variables else text


def html_lang(locale: str) -> str:
    return "zh-Hans" if locale.startswith("zh") else locale


def inject_i18n():
    from flask_babel import get_locale

    locale = str(get_locale())
    return {
        "current_locale": locale,
        "html_lang": html_lang(locale),
        "language_names": LANGUAGE_NAMES,
    }


class PageLabels(dict):
    """Labels (lazy strings, by code) for one page, each translated on its first use: a list
    of 50 rows translates each status once, not once a row (issue 15). Build one per request,
    never at import (the language is the request's)."""

    def __init__(self, labels: dict):
        super().__init__()
        self._labels = labels

    def __missing__(self, key):
        text = self[key] = str(self._labels[key])
        return text

    def get(self, key, default=None):
        return self[key] if key in self._labels else default
