"""Redirect targets we are willing to follow."""
from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """Only same-site absolute paths; anything with a host or scheme is dropped."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def external_url(endpoint: str, **values) -> str:
    """An absolute link for messages: from the request when there is one, else (batch jobs)
    PORTAL_BASE_URL plus the route's path, so no caller spells a path by hand."""
    from flask import current_app, has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return (current_app.config.get("PORTAL_BASE_URL") or "").rstrip("/") + path
