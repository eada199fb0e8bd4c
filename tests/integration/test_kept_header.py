"""The page header drawn once per process with holes (base.html, `fragments.kept_holes`,
issue 15): every page reads exactly as when each request drew its header, for anyone signed
out, a cardholder and staff of different roles, in both languages, with each session's own
CSRF token and each page's own address in it."""
from __future__ import annotations

import re

import pytest

from portal.core import fragments
from portal.i18n import LOCALE_COOKIE

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
# (who, path): a page of each kind, some with a query string the header's `next` must escape
PAGES = (("nobody", "/login"), ("nobody", "/staff/login?next=/staff/payments%3Fa%3D1%26b%3D%22"),
         ("holder", "/home"), ("holder", "/home?x=%3Cb%3E&y=%27"),
         ("manager", "/staff/"), ("manager", "/staff/payments?status=&page=2"),
         ("manager", "/staff/plans/review"), ("agent", "/staff/disputes/?view=queue"),
         ("collector", "/staff/collections/my-accounts"), ("collector", "/staff/payments"))


@pytest.fixture()
def clients(app, client, login_as, make_staff, make_account):
    """A signed-in client per person (each its own session), and one signed out."""
    people = {"holder": make_account().cardholder,
              "manager": make_staff("collections_manager", "customer_service"),
              "agent": make_staff("customer_service"), "collector": make_staff("collector")}
    made = {"nobody": client}
    for who, user in people.items():
        made[who] = login_as(app.test_client(), user)
    return made


def _pages(clients) -> list[tuple[int, str]]:
    """Every page in en, zh_Hans and en again, forwards and back: status and HTML."""
    out = []
    for language in ("en", "zh_Hans", "en"):
        for who, path in PAGES + PAGES[::-1]:
            clients[who].set_cookie(LOCALE_COOKIE, language, domain="localhost")
            answer = clients[who].get(path)
            out.append((answer.status_code, answer.get_data(as_text=True)))
    return out


def test_kept_header_gives_the_pages_drawing_it_every_time_gives(app, clients, monkeypatch):
    app.extensions.pop("kept_holes", None)
    kept = _pages(clients)
    assert len(app.extensions["kept_holes"]) >= 8  # signed out, cardholder, 3 menus; 2 languages
    monkeypatch.setattr(fragments, "PARTS_KEPT", False)
    assert _pages(clients) == kept
    assert all(status == 200 for status, _html in kept)


def test_each_session_and_page_fills_the_holes_with_its_own(app, clients):
    app.extensions.pop("kept_holes", None)
    tokens = {}
    for who in ("manager", "collector", "holder"):
        html = clients[who].get("/staff/payments" if who != "holder" else "/home").get_data(
            as_text=True)
        found = set(TOKEN.findall(html))
        assert len(found) == 1 and "" not in found  # the language picker's and sign-out's
        tokens[who] = found.pop()
    assert len(set(tokens.values())) == 3
    html = clients["manager"].get("/staff/payments?status=&page=2&x='%3E").get_data(as_text=True)
    assert 'name="next" value="/staff/payments?status=&amp;page=2&amp;x=&#39;%3E"' in html
    for pieces in app.extensions["kept_holes"].values():  # no session's token, no address
        text = "".join(piece for piece in pieces if isinstance(piece, str))
        assert not any(token in text for token in tokens.values()) and "/staff/payments?" not in text
