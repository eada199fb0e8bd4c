"""Navigation entries: each feature declares its own (a `NAV` tuple beside its routes) and
`portal.wiring` adds them here, so base.html needs no edits per feature."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # a lazy string, translated when rendered
    roles: tuple = ()  # staff entries: shown to holders of any of these roles
    order: int = 100
    staff: bool = False


_CARDHOLDER: list[NavEntry] = []
_STAFF: list[NavEntry] = []


def cardholder_entry(endpoint, label, order=100) -> NavEntry:
    """An entry of the cardholder menu (declared, not yet shown: see `add`)."""
    return NavEntry(endpoint, label, order=order)


def staff_entry(endpoint, label, roles, order=100) -> NavEntry:
    """An entry of the staff menu for holders of any of `roles` (see `add`)."""
    return NavEntry(endpoint, label, tuple(roles), order, staff=True)


def add(*entries: NavEntry) -> None:
    """Show `entries` in their menus; an endpoint already shown is not added twice."""
    for entry in entries:
        menu = _STAFF if entry.staff else _CARDHOLDER
        if all(e.endpoint != entry.endpoint for e in menu):
            menu.append(entry)


class MenuItem(NamedTuple):
    url: str
    label: str


def _items(entries) -> tuple[MenuItem, ...]:
    """The menu's links and labels, built once per process for each set of entries, language
    and script root (what the URLs and the labels depend on), then shared by every page."""
    entries = tuple(entries)
    key = (tuple(e.endpoint for e in entries), str(get_locale()), request.script_root)
    kept = current_app.extensions.setdefault("nav_items", {})
    items = kept.get(key)
    if items is None:
        items = kept[key] = tuple(MenuItem(url_for(e.endpoint), str(e.label))
                                  for e in sorted(entries, key=lambda e: e.order))
    return items


def staff_tools(role) -> tuple[MenuItem, ...]:
    """The pages registered for `role`, except its home page: what its home page lists."""
    entries = [e for e in _STAFF if role in e.roles and not e.endpoint.startswith("staff.")]
    return _items(entries)


class Menu(NamedTuple):
    """What the page header's menu shows this request (base.html): whether someone is signed
    in, whether a staff member, and the entries their menu lists (staff: those of their roles;
    a cardholder: the cardholder menu). Hashable: the header is kept under it
    (`fragments.kept_holes`)."""
    signed_in: bool
    staff: bool
    items: tuple[MenuItem, ...]


_SIGNED_OUT = Menu(False, False, ())


def header_menu() -> Menu:
    """This request's `Menu`; its entries are `_items`', kept per process."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return _SIGNED_OUT
    if user.is_staff:
        roles = user.roles  # what `has_role` asks, worked out once a menu, not once an entry
        return Menu(True, True, _items(e for e in _STAFF if roles.intersection(e.roles)))
    return Menu(True, False, _items(_CARDHOLDER))


def register(app) -> None:
    app.jinja_env.globals["header_menu"] = header_menu
