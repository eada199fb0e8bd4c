"""Small helpers shared by route tests: CSRF tokens, form posts, reading codes."""
from __future__ import annotations

import re

# A form's token field, plain or prefixed ("wd-csrf_token" on a page with several forms).
_TOKEN = re.compile(r'name="(?:[\w-]+-)?csrf_token" (?:type="hidden" )?value="([^"]+)"')
_TOKEN_BY_ID = re.compile(r'id="csrf_token"[^>]*value="([^"]+)"')


def token_in(html: str) -> str:
    """The CSRF token in a page's HTML (every form of one session carries the same one)."""
    match = _TOKEN.search(html) or _TOKEN_BY_ID.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def csrf_token(client, path: str, *, follow_redirects: bool = False) -> str:
    """The CSRF token a browser would get from the form page at `path`."""
    return token_in(client.get(path, follow_redirects=follow_redirects).get_data(as_text=True))


def post_form(client, path: str, data: dict | None = None, *, form_page: str | None = None,
              **kwargs):
    """POST `data` to `path` with a valid CSRF token taken from `form_page` (default: `path`)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, form_page or path)
    return client.post(path, data=payload, **kwargs)


def last_code(outbox) -> str:
    """The 6-digit code in the newest outbox message."""
    messages = outbox()
    assert messages, "nothing was sent"
    match = re.search(r"\b(\d{6})\b", messages[-1]["body"])
    assert match, messages[-1]["body"]
    return match.group(1)
