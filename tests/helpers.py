"""Small helpers shared by route tests: CSRF tokens, form posts, reading codes."""
from __future__ import annotations

import re

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """The CSRF token a browser would get from the form page at `path`."""
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html) or re.search(r'id="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


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
