"""What a plan-limits edit changes, labelled as on the form, for the preview."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FormField

from portal.plans.limits_form import FREQUENCY_LABELS, TYPE_LABELS, _major


def changes(before: dict, after: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(path, old, new) for every value that differs, in a stable order."""
    found = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        path = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            found += changes(old, new, path + ".")
        elif old != new:
            found.append((path, old, new))
    return found


def has_errors(form) -> bool:
    """True when any field (nested ones included) carries an error."""
    def walk(fields):
        for field in fields:
            if isinstance(field, FormField):
                if walk(field.form):
                    return True
            elif field.errors:
                return True
        return False
    return walk(form)


def _shown(value, money_currency: str | None) -> str:
    if value is None:
        return str(_l("Not set"))
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list):
        labels = {**TYPE_LABELS, **FREQUENCY_LABELS}
        return ", ".join(str(labels.get(v, v)) for v in value)
    if money_currency and isinstance(value, int):
        return f"{_major(value, money_currency)} {money_currency}"
    return str(value)


def preview_rows(form, diff) -> list[tuple[str, str, str, str]]:
    """(section, setting, before, after) for each change, labelled as on the form; changes
    outside the form (none, unless the JSON editor was used meanwhile) show their path."""
    rows = []
    for path, old, new in diff:
        parts = path.split(".")
        section_name, name = parts[0], "_".join(parts[1:])
        sub = None
        if section_name in ("limits", "auto_approval"):
            sub = getattr(form, section_name)
        elif parts[:2] == ["authority", "collector"]:
            sub, name = form.authority, "_".join(parts[2:])
        field = sub.form._fields.get(name) if sub is not None else None
        money = parts[-1] if len(parts[-1]) == 3 and parts[-1].isupper() else None
        rows.append((str(sub.label.text) if sub is not None else section_name,
                     str(field.label.text) if field is not None else path,
                     _shown(old, money), _shown(new, money)))
    return rows
