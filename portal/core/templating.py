"""The app's Jinja environment: Flask's, with template globals whose names Jinja compares in C
(issue 15).

On every `{% from "macros/..." import ... %}` Jinja works out which of the page's global names
the imported template lacks (`Template._get_default_module`: the context's names minus
`template.globals.keys()`). A template's globals are a `ChainMap` (its own over the
environment's), whose `keys()` view made that subtraction a Python loop over about 35 names,
each looked up through the chain: about 20 us an import, one or two an import per staff list
page. `_Globals.keys()` gives the same names as dict keys, which the subtraction takes in C.
Lookups, and everything else about the globals, are `ChainMap`'s."""
from __future__ import annotations

from collections import ChainMap
from itertools import chain

from flask.templating import Environment


class _Globals(ChainMap):
    """A template's globals; `keys()` is a snapshot of the names (all Jinja asks of it)."""

    def keys(self):
        return dict.fromkeys(chain.from_iterable(self.maps)).keys()


class PortalEnvironment(Environment):
    """Flask's Jinja environment, making each template's globals a `_Globals`."""

    def make_globals(self, d):
        return _Globals(d or {}, self.globals)
