"""Security headers on every response; each session's signed CSRF token signed once; the rate
limiter's before-request check only where it has something to check."""
from flask import current_app, g, request, session
from flask_wtf.csrf import generate_csrf

# No inline script or style anywhere: every script and stylesheet is a file we serve.
BASE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


def extend_csp(**sources: list[str]) -> None:
    """Let one view widen the policy for its own response (e.g. Stripe on the payment page)."""
    extra = g.setdefault("csp_extra", {})
    for directive, values in sources.items():
        extra.setdefault(directive.replace("_", "-"), []).extend(values)


def _render(policy: dict) -> str:
    return "; ".join(f"{k} {' '.join(v)}" for k, v in policy.items())


BASE_POLICY = _render(BASE_CSP)  # what nearly every response sends, built once


def _policy() -> str:
    extra = g.get("csp_extra")
    if not extra:
        return BASE_POLICY
    policy = {k: list(v) for k, v in BASE_CSP.items()}
    for directive, values in extra.items():
        current = [v for v in policy.get(directive, []) if v != "'none'"]
        policy[directive] = current + [v for v in values if v not in current]
    return _render(policy)


# The headers every response carries unless a view set its own (then the view's stays), in
# the order they are added.
_FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def set_security_headers(response):
    # What `headers.setdefault` did for each header, with the response's header names read
    # once (each `setdefault` scanned them all again: issue 15).
    headers = response.headers
    present = {key.lower() for key, _ in headers}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", _policy())
    for key, value in _FIXED_HEADERS:
        if key.lower() not in present:
            headers.add(key, value)
    if current_app.config.get("FORCE_HTTPS_HEADERS") and _HSTS[0].lower() not in present:
        headers.add(*_HSTS)
    if request.endpoint != "static":
        # Pages, letters, agreements and uploaded documents carry personal data: never keep
        # them in shared or back-button caches (send_file's own "no-cache" still stores them).
        if "cache-control" in present:
            headers["Cache-Control"] = "no-store"
        else:
            headers.add("Cache-Control", "no-store")
    return response


def plain_answer_headers() -> list[tuple[str, str]]:
    """The headers `set_security_headers` gives a response (not a static file) that set none
    of its own and widened no policy, in its order: for an answer built without Flask's
    response (`portal.payments.webhook_wsgi`). Needs the app context (FORCE_HTTPS_HEADERS)."""
    headers = [("Content-Security-Policy", BASE_POLICY), *_FIXED_HEADERS]
    if current_app.config.get("FORCE_HTTPS_HEADERS"):
        headers.append(_HSTS)
    headers.append(("Cache-Control", "no-store"))
    return headers


# Each session's signed CSRF token, by the key and the session's raw token (issue 15).
# Flask-WTF signs the raw token again on every page that shows a form or the sign-out button
# (`generate_csrf`); with WTF_CSRF_TIME_LIMIT off the signature's time is never checked, so the
# token signed the first time is as valid as a new one and validation (the raw token in the
# session, the signature) is Flask-WTF's as before. Bounded: cleared when it grows past this.
_SIGNED_CSRF: dict[tuple[str, str], str] = {}
_SIGNED_CSRF_MAX = 10_000


def keep_csrf_token() -> None:
    """Before a request: give Flask-WTF this session's token as signed before, if any (it
    reads `g.csrf_token` before signing). A session without a raw token yet is left to
    Flask-WTF, which creates it when a form asks."""
    config = current_app.config
    # Flask-WTF's default is an hour: only a token whose time is never checked is kept. A
    # request that has not read its session (static files, health checks) is left alone:
    # reading it here would add "Vary: Cookie" to its response.
    if not getattr(session, "accessed", False) or config.get("WTF_CSRF_TIME_LIMIT", 3600):
        return
    raw = session.get("csrf_token")
    if not isinstance(raw, str):
        return
    key = (config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    signed = _SIGNED_CSRF.get(key)
    if signed is not None:
        g.csrf_token = signed
        return
    if len(_SIGNED_CSRF) >= _SIGNED_CSRF_MAX:
        _SIGNED_CSRF.clear()
    _SIGNED_CSRF[key] = generate_csrf()  # signs it and hands it to Flask-WTF (g.csrf_token)


def drop_idle_limit_check(app, limiter) -> bool:
    """Take Flask-Limiter's before-request check off the app when it has nothing to check;
    returns whether it did. After the blueprints are registered.

    Flask-Limiter checks a view's own limits (`limiter.limit(...)` on sign-in, the codes and
    staff POSTs) inside the decorated view, not in its before-request hook; the hook applies
    only application, default, meta, blueprint and in-memory fallback limits. The portal
    declares none, so on every other request the hook worked out an empty list of limits
    (about 5% of a signed-in request's Python, issue 15). Flask-Limiter has no switch for the
    hook alone, so it is removed here, and only when the limiter says (its limit manager, its
    meta and fallback settings, each blueprint's limits) that there is nothing for it; an
    attribute this check reads that a later Flask-Limiter no longer has keeps the hook. The
    after-request hook (the X-RateLimit headers of a limited view) and the teardown stay."""
    manager = limiter.limit_manager
    try:
        idle = not (manager.application_limits or manager.default_limits
                    or limiter._meta_limits or limiter._in_memory_fallback_enabled
                    or any(manager.blueprint_limits(app, name) for name in app.blueprints))
    except AttributeError:
        return False
    hooks = app.before_request_funcs.get(None, [])
    if not idle or limiter._check_request_limit not in hooks:
        return False
    hooks.remove(limiter._check_request_limit)
    return True
