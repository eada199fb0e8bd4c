"""The portal's Jinja environment (portal.core.templating, issue 15): a template's globals
name what Jinja's own name, and imported macros see what they saw under Jinja's environment,
with or without globals of the importing template's own."""
from __future__ import annotations

from collections import ChainMap

from flask import Flask
from jinja2 import DictLoader, Environment

from portal.core.templating import PortalEnvironment

TEMPLATES = {
    "macros.html": "{% macro hello() %}{{ greeting | default('none') }} {{ shared }}{% endmacro %}",
    "page.html": '{% from "macros.html" import hello %}[{{ hello() }}] {{ greeting | default("-") }}',
}


def _environments():
    jinja = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    portal = PortalEnvironment(Flask(__name__), loader=DictLoader(TEMPLATES), autoescape=True)
    for env in (jinja, portal):
        env.globals["shared"] = "both"
    return jinja, portal


def test_a_templates_global_names_are_jinjas():
    jinja, portal = _environments()
    ours, theirs = (env.get_template("page.html", globals={"own": 1}) for env in (jinja, portal))
    assert set(ours.globals.keys()) == set(theirs.globals.keys()) == set(
        ChainMap({"own": 1}, portal.globals))
    portal.globals["later"] = True  # a name added later is named too, as by ChainMap's view
    assert "later" in theirs.globals.keys() and theirs.globals["later"] is True


def test_imported_macros_read_as_under_jinjas_environment():
    seen = []
    for globals_ in (None, {"greeting": "hi"}):  # the second: Jinja makes the module afresh
        pages = [env.get_template("page.html", globals=globals_).render()
                 for env in _environments()]
        assert pages[0] == pages[1]
        seen.append(pages[1])
    assert seen == ["[none both] -", "[hi both] hi"]
