"""The webhook request answered before Flask's request machinery (issue 15).

With the webhook inbox on, a delivery is only verified and recorded (`webhooks.accept`: one
statement). Through Flask, about half of that request's CPU was Flask's machinery (the
request context, URL matching, the session cookie, the before- and after-request hooks,
the limiter's headers, the response object) and a third the ORM session around the insert
with its BEGIN and COMMIT (bench/README.md, hooks7). This WSGI wrapper answers `POST` to the webhook route itself, in an
app context: the signature is checked before anything is written, 400 for a bad one (or a
body that is not an event), 200 "accepted" or "duplicate", 503 when the event cannot be
stored (the provider retries); the same JSON bodies and security headers as the route (no
"Vary: Cookie": no session is read). As before, no session, no CSRF and no rate limit.

Anything else goes to Flask unchanged: other paths and methods, a query string, a body
without Content-Length or over MAX_CONTENT_LENGTH, the inbox off (the event is posted in
the request, `routes.webhook`). So does a delivery whose fast handling raised anything but
the errors above (raised before the commit, so nothing was kept; the waker, called after
it, never raises: `wake.register_waker`): the route then handles it as it always did,
error page and logging included.
"""
from __future__ import annotations

import io

from flask import Flask
from sqlalchemy.exc import DBAPIError

from portal.core.security import plain_answer_headers
from portal.payments import webhooks
from portal.payments.gateway import BadSignature, ProviderUnavailable

ENDPOINT = "payments.webhook"
_STATUS = {200: "200 OK", 400: "400 BAD REQUEST", 503: "503 SERVICE UNAVAILABLE"}


class WebhookFastPath:
    """WSGI middleware: `app.wsgi_app = WebhookFastPath(app, app.wsgi_app)` (`install`)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.paths = {rule.rule for rule in app.url_map.iter_rules(ENDPOINT)}
        self._bodies: dict[tuple, bytes] = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") not in self.paths \
                or environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING") \
                or not webhooks.inbox_on(self.app.config):
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return self.wsgi_app(environ, start_response)
        most = self.app.config.get("MAX_CONTENT_LENGTH")
        if length < 0 or (most is not None and length > most):
            return self.wsgi_app(environ, start_response)
        payload = environ["wsgi.input"].read(length)
        with self.app.app_context():
            answer = self._accept(payload, environ.get("HTTP_STRIPE_SIGNATURE"))
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(payload)
            return self.wsgi_app(environ, start_response)
        status, headers, data = answer
        start_response(status, headers)
        return [data]

    def _accept(self, payload: bytes, signature: str | None):
        """(status line, headers, body) of the answer; None to hand the request to Flask."""
        try:
            outcome = webhooks.accept(payload, signature)
            status, body = 200, {"received": True, "outcome": outcome}
        except BadSignature:
            status, body = 400, {"error": "bad signature"}
        except (DBAPIError, ProviderUnavailable):
            status, body = 503, {"error": "unavailable"}
        except Exception:  # noqa: BLE001 - nothing was kept: the route answers as before
            return None
        data = self._body(body)
        return _STATUS[status], [("Content-Type", "application/json"),
                                 ("Content-Length", str(len(data))),
                                 *plain_answer_headers()], data

    def _body(self, body: dict) -> bytes:
        """What the route's `return body` sends (Flask's JSON provider), made once a kind."""
        key = (tuple(sorted(body.items())), self.app.debug)
        data = self._bodies.get(key)
        if data is None:
            data = self._bodies[key] = self.app.json.response(body).get_data()
        return data


def install(app: Flask) -> None:
    """Answer the webhook route's deliveries ahead of Flask (after the blueprints)."""
    app.wsgi_app = WebhookFastPath(app, app.wsgi_app)
