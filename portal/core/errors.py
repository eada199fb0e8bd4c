"""Error pages that say what happened in the reader's language.

Every 4xx and 5xx answer is the styled page, with the security headers every page carries
(`set_security_headers` runs on error responses too). An error page must not fail in turn:
when the database is unreachable the signed-in user cannot be loaded, so the page is drawn for
an anonymous reader, in the language of the cookie or the browser, and says 503 with
Retry-After rather than 500.
"""
from flask import g, jsonify, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from portal.core.storage_types import StorageUnavailable
from portal.extensions import db

RETRY_AFTER_SECONDS = 30
# The database refusing connections or going away mid-request (PostgreSQL down, SQLite file
# unreadable): nobody's fault, worth trying again shortly.
UNREACHABLE = (OperationalError, InterfaceError)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone: nothing to undo on our side
        pass


def _as_anonymous() -> None:
    """Draw the page without loading the user (their row is what we cannot read); a language
    already chosen for this request stays, otherwise the cookie or the browser decides."""
    g._login_user = AnonymousUserMixin()


def error_page(status: int, *, csrf: bool = False, headers: dict | None = None):
    """The styled error page (JSON for API and webhook paths) with `status`."""
    if status >= 500:
        _rollback()
    if _wants_json():
        return jsonify(error="csrf" if csrf else status), status, headers or {}
    try:
        body = render_template("errors/error.html", status=status, csrf=csrf)
    except Exception:  # noqa: BLE001 - an error page must not become a bare 500
        _rollback()
        _as_anonymous()
        try:
            body = render_template("errors/error.html", status=status, csrf=csrf)
        except Exception:  # noqa: BLE001 - last resort: still ours, still with headers
            body = f"<!doctype html><title>{escape(status)}</title><h1>{escape(status)}</h1>"
    return body, status, headers or {}


def register(app):
    def page(status):
        def handler(error):
            return error_page(status)
        return handler

    for status in (400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 501, 503):
        app.register_error_handler(status, page(status))

    @app.errorhandler(HTTPException)
    def any_http_error(error):  # the statuses not listed above keep their code, styled
        if error.code is None or error.code < 400:  # redirects raised as exceptions
            return error
        return error_page(error.code)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_page(400, csrf=True)

    def database_unreachable(error):
        app.logger.error("database unreachable: %s", error.__class__.__name__)
        _rollback()
        _as_anonymous()
        return error_page(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    for error_class in UNREACHABLE:
        app.register_error_handler(error_class, database_unreachable)

    @app.errorhandler(StorageUnavailable)
    def documents_unreachable(error):
        # The object store is down or refuses us: the request's rows are rolled back (an upload
        # leaves no document without its file) and the reader is asked to try again shortly.
        app.logger.error("document store unavailable: %s", error)
        return error_page(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
