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


_MARK = 918273645546372819  # an id no list shows: where the id goes in the built URL


def id_link(endpoint: str, name: str):
    """A function id -> `url_for(endpoint, **{name: id})`, for the rows of a list: the route
    is built once (werkzeug's routing costs more than a row's other cells) and each row's
    id put in its place. For routes whose only variable part is an `<int:...>` id."""
    from flask import url_for

    head, mark, tail = url_for(endpoint, **{name: _MARK}).partition(str(_MARK))
    if not mark or "?" in head:  # absent, or only in the query string: not the route's id
        raise ValueError(f"{endpoint}: {name} is not a variable of its route")
    return lambda value: f"{head}{int(value)}{tail}"
