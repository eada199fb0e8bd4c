"""Parts of a page that come out the same for every request in a language, rendered once per
process and then reused (issue 15: a staff list of 50 rows spent a fifth of its Python on
WTForms widgets that drew the same empty filter form on every page).

`kept_form` serves the filter forms of the staff lists: a GET form whose fields nobody has
filled in (no value in the query string, or only empty ones) and that shows no errors
renders to the same HTML for the same language, field values and choices, so that HTML is
kept under exactly those. A form with anything typed into it, or with errors, is rendered as
before, every time: what a person typed never enters the kept texts."""
from __future__ import annotations

import re

from flask import current_app, get_template_attribute, request
from flask_babel import get_locale, get_timezone
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

KEPT = 256  # kept forms per process before starting afresh (languages x lists x choices)


def _blank_key(form) -> tuple | None:
    """What a blank form's HTML depends on, or None when it must be rendered afresh (a CSRF
    token, errors, or a value typed in)."""
    if getattr(form.meta, "csrf", False) or form.errors:
        return None
    key = []
    for field in form:
        if any(value for value in field.raw_data or ()):
            return None
        choices = getattr(field, "choices", None)
        key.append((field.name, tuple(field.raw_data or ()), repr(field.data),
                    None if choices is None else tuple((str(value), _label_key(label))
                                                        for value, label, *_ in
                                                        _pairs(choices))))
    return tuple(key)


def _label_key(label):
    """A choice's label as the key holds it: a lazy text by what it translates (the language
    is in the key; translating each label on every request was most of the key's cost), any
    other label as its text."""
    if type(label) is LazyString and not label._kwargs:
        return (label._func, label._args)
    return str(label)


def _pairs(choices):
    """A field's choices as (value, label) tuples, as WTForms accepts them."""
    if isinstance(choices, dict):  # grouped choices: {group: [(value, label), ...]}
        return [(f"{group}:{value}", label) for group, items in choices.items()
                for value, label, *_ in items]
    return [c if isinstance(c, tuple) else (c, c) for c in choices]


def kept_form(name: str, form, render) -> Markup:
    """`render()` (a Jinja macro drawing `form`'s fields), kept per process under `name`, the
    language and the form's blank state (see the module docstring); rendered afresh when the
    form carries anything typed or an error."""
    key = _blank_key(form)
    if key is None:
        return render()
    return _kept("kept_forms", (name, type(form).__qualname__, str(get_locale()), key),
                 lambda: Markup(render()))


def kept_part(name: str, key, render) -> Markup:
    """`render()` (a Jinja macro), kept per process under `name`, `key` (a hashable value
    holding everything its HTML depends on besides these), the language, the zone and the
    script root: for parts of a page that link to the page's own views (the dispute queue's
    views), so their links are built and their labels translated once, not per request."""
    return _kept("kept_parts",
                 (name, str(get_locale()), str(get_timezone()), request.script_root, key),
                 lambda: Markup(render()))


# Stand-ins for a kept part's holes while it is drawn: characters of Unicode's private use area,
# which escaping leaves as they are and no template or translation writes.
_HOLE = re.compile("\ue000([0-9]+)\ue001")
PARTS_KEPT = True  # False: `kept_holes` draws every time (tests compare the two)


def kept_holes(name: str, key, render, *values) -> Markup:
    """`render(key, *values)` (a Jinja macro drawn from `key` and placing each value with
    `{{ }}`), kept per process as `kept_part` keeps it (under `name`, `key`, the language, the
    zone and the script root) with holes where the values go; each request fills the holes
    with its own values, escaped as `{{ }}` escapes them. For parts that are the same for many
    requests but for a value or two (the page header: its CSRF token and the page's own
    address). The macro must only place the values, never test or transform them."""
    if not PARTS_KEPT:
        return Markup(render(key, *values))
    pieces = _kept("kept_holes", (name, str(get_locale()), str(get_timezone()),
                                  request.script_root, key),
                   lambda: _pieces(render(key, *(f"\ue000{i}\ue001"
                                                for i in range(len(values))))))
    out = [pieces[0]]
    for i in range(1, len(pieces), 2):
        out.append(escape(values[pieces[i]]))
        out.append(pieces[i + 1])
    return Markup("".join(out))


def _pieces(html: str) -> tuple:
    """`html` split at its holes: text, the number of a value, text, ..., text."""
    return tuple(int(piece) if i % 2 else piece for i, piece in enumerate(_HOLE.split(html)))


def _kept(store: str, key, make):
    """`make()` (a part's HTML, or its pieces) kept in the app's `store` under `key` (KEPT at
    most, then afresh)."""
    kept = current_app.extensions.setdefault(store, {})
    made = kept.get(key)
    if made is None:
        if len(kept) >= KEPT:
            kept.clear()
        made = kept[key] = make()
    return made


def register(app) -> None:
    app.jinja_env.globals["kept_form"] = kept_form
    app.jinja_env.globals["kept_part"] = kept_part
    app.jinja_env.globals["kept_holes"] = kept_holes


# Rows of the staff lists (issue 15): each row's HTML kept per process under what the row
# shows. A list row is drawn from a few columns of its database row (and, for a deadline, the
# time left as the formatter says it), so the same values in the same language, zone and
# mount point always draw the same HTML; the key holds those values, so a row that changed
# has another key and is drawn afresh, and a row is only ever drawn for a page whose query
# (with its access filter) returned it: nothing is kept under who is reading.
KEPT_ROWS = 20_000  # rows kept per process before starting afresh (about 0.5 KB each)
ROWS_KEPT = True  # False: every row drawn afresh (tests compare the two)


def kept_rows(template: str, rows, key, cells) -> list[Markup]:
    """The HTML of each of `rows`: the macro `row` of `template` given its cells, kept per
    process under the template, the language, the zone, the script root and `key(row)`.

    `key(row)`: a hashable value holding everything the row's HTML depends on besides those
    four (the columns it shows, a deadline's text); `cells(rows)`: the macro's argument for
    each of the rows not kept, worked out once for them all (labels translated once)."""
    store = current_app.extensions.setdefault("kept_rows", {})
    prefix = (template, str(get_locale()), str(get_timezone()), request.script_root)
    keys = [(prefix, key(row)) for row in rows]
    found = [store.get(k) for k in keys] if ROWS_KEPT else [None] * len(keys)
    missing = [i for i, html in enumerate(found) if html is None]
    if missing:
        draw = get_template_attribute(template, "row")
        for i, cell in zip(missing, cells([rows[i] for i in missing])):
            found[i] = Markup(draw(cell))
            if ROWS_KEPT:
                if len(store) >= KEPT_ROWS:
                    store.clear()
                store[keys[i]] = found[i]
    return found
