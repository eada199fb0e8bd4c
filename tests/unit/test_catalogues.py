"""Every visible string is translated: an untranslated or fuzzy catalogue entry fails here."""
import os

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCALES = ["zh_Hans"]


def _catalogue(locale) -> Catalog:
    path = os.path.join(ROOT, "translations", locale, "LC_MESSAGES", "messages.po")
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def _source_messages() -> set[str]:
    """What the code and templates ask to be translated, extracted the way `make` does."""
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
                "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, keywords=keywords,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        found.add(message[0] if isinstance(message, (tuple, list)) else message)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalogue_entry_is_translated(locale):
    missing = [m.id for m in _catalogue(locale) if m.id and (not m.string or m.fuzzy
               or (isinstance(m.string, tuple) and not all(m.string)))]
    assert missing == [], f"{len(missing)} untranslated in {locale}: {missing[:20]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_in_the_catalogue(locale):
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(locale) if m.id}
    absent = sorted(_source_messages() - known)
    assert absent == [], f"{len(absent)} strings not in the {locale} catalogue (run make extract-messages): {absent[:20]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_survive_translation(locale):
    import re

    bad = []
    for m in _catalogue(locale):
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, (tuple, list)) else [m.id]
        strs = m.string if isinstance(m.string, (tuple, list)) else [m.string]
        want = set(re.findall(r"%\(\w+\)s", " ".join(ids)))
        for s in strs:
            if set(re.findall(r"%\(\w+\)s", s)) != want:
                bad.append(m.id)
    assert bad == []
