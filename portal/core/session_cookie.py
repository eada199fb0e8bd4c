"""The session cookie, verified once per process for each cookie value (issue 15).

Flask's `SecureCookieSessionInterface` builds an itsdangerous serializer, checks the cookie's
HMAC and its age, and decodes its tagged JSON on every request: about a tenth of a signed-in
request's Python. A signed-in browser sends the same cookie for up to 30 seconds (the session
changes only when activity is noted, `auth.session.LAST_SEEN_STEP`), so `KeptSessionInterface`
keeps what a cookie value was verified to hold and hands a copy to each later request with the
same value, after checking its age again exactly as itsdangerous does.

What this keeps and why it changes nothing about who is signed in:

- The key is the whole cookie value (payload, time and signature) with the signing keys: a
  cookie differing in any character (tampered, forged, another session's) is not found and is
  verified by Flask as before; a refused cookie is never kept.
- The age is checked on every request against the time the signature carries, with the same
  bounds as itsdangerous (`0 <= now - signed <= PERMANENT_SESSION_LIFETIME`, whole seconds): an
  expired cookie is refused (an empty session) whether it was kept or not.
- Only sessions whose values are all plain scalars (str, int, float, bool, None) are kept, and
  every request gets a dict of its own: nothing a request writes into its session (a flashed
  message, the noted activity, sign-out's `clear`) reaches the kept values or another request.
  A session holding a list or a dict (flashed messages) is verified every time.
- What a session grants is decided after this, as before: the user loader reads the user's row
  on every request and refuses a session whose version is not the user's (sign-out, a password
  change) or a switched-off staff member; the idle and absolute limits are checked by
  `auth.session.enforce_idle_timeout` from the session's own times.

At most `KEPT_MAX` cookie values are kept per process (cleared when full); nothing is shared
between processes.
"""
from __future__ import annotations

import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

KEPT_MAX = 10_000
_SCALARS = (str, int, float, bool, type(None))


def _plain(data) -> bool:
    """Whether every value of a decoded session is a plain scalar (safe to share as a copy)."""
    return type(data) is dict and all(type(value) in _SCALARS for value in data.values())


class KeptSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, each cookie value verified once per process."""

    def __init__(self) -> None:
        # (signing keys, cookie value) -> (time the signature carries, the session's values)
        self._kept: dict[tuple, tuple[int, dict]] = {}

    def open_session(self, app, request):
        if not app.secret_key:
            return super().open_session(app, request)  # no key: Flask gives no session
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), value)
        kept = self._kept.get(key)
        if kept is not None:
            signed, data = kept
            age = int(time.time()) - signed  # itsdangerous: get_timestamp() - the cookie's
            if 0 <= age <= max_age:
                return self.session_class(data)  # a new dict: the kept one is never handed out
            self._kept.pop(key, None)
            return self.session_class()  # expired, as itsdangerous would say
        serializer = self.get_signing_serializer(app)
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:  # tampered, forged, signed with another key, or expired
            return self.session_class()
        if _plain(data):
            if len(self._kept) >= KEPT_MAX:
                self._kept.clear()
            self._kept[key] = (int(signed_at.timestamp()), dict(data))
        return self.session_class(data)

    def forget(self) -> None:
        """Drop every kept cookie value (tests; a new secret key needs no call: it is in the
        key)."""
        self._kept.clear()
