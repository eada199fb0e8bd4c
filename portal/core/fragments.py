"""Parts of a page that come out the same for every request in a language, rendered once per
process and then reused (issue 15: a staff list of 50 rows spent a fifth of its Python on
WTForms widgets that drew the same empty filter form on every page).

`kept_form` serves the filter forms of the staff lists: a GET form whose fields nobody has
filled in (no value in the query string, or only empty ones) and that shows no errors
renders to the same HTML for the same language, field values and choices, so that HTML is
kept under exactly those. A form with anything typed into it, or with errors, is rendered as
before, every time: what a person typed never enters the kept texts."""
from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

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
                    None if choices is None else tuple((str(value), str(label))
                                                        for value, label, *_ in
                                                        _pairs(choices))))
    return tuple(key)


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
    key = (name, type(form).__qualname__, str(get_locale()), key)
    kept = current_app.extensions.setdefault("kept_forms", {})
    html = kept.get(key)
    if html is None:
        if len(kept) >= KEPT:
            kept.clear()
        html = kept[key] = Markup(render())
    return html


def register(app) -> None:
    app.jinja_env.globals["kept_form"] = kept_form
