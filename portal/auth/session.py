"""Who is signed in: loading users, rotating sessions, idle time-out, access decorators."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import Account, Cardholder
from portal.extensions import db
from portal.timeutil import utcnow

_LAST_SEEN = "last_seen"
# Activity is noted at most every this many seconds: a page within it leaves the session as it
# is, so the cookie is neither signed nor sent again (SESSION_REFRESH_EACH_REQUEST is off; it
# is re-sent, with a new expiry, whenever activity is noted). A user is signed out after at
# least the idle limit less this, never later than the limit (issue 15).
LAST_SEEN_STEP = 30
_STARTED = "started"
_VERSION = "sv"
# Who may sign in, by the prefix of the id a user's get_id() keeps in the session: "c" for
# cardholders; portal.wiring adds "s" for staff users (auth imports no staff module).
_USER_KINDS: dict[str, type] = {"c": Cardholder}
# Session keys that survive sign-in besides the language: portal.wiring adds the one-tap grant
# (portal/links), which is no authority, only where the visit came from.
_KEPT_ACROSS_SIGN_IN: set[str] = {"locale"}

# A cardholder with their accounts, oldest first (every cardholder page shows or checks them),
# in one statement built once. Two entities a row rather than `joinedload(accounts)`: the same
# SQL without the eager loader's per-row work and `unique()` (issue 15).
_CARDHOLDER = (select(Cardholder, Account)
               .outerjoin(Account, Account.cardholder_id == Cardholder.id)
               .where(Cardholder.id == bindparam("user_id")).order_by(Account.id))


def _load_cardholder(user_id: int) -> Cardholder | None:
    """The cardholder `user_id` as the database holds them now, their accounts loaded."""
    rows = db.session.execute(_CARDHOLDER, {"user_id": user_id}).all()
    if not rows:
        return None
    holder = rows[0][0]
    if "accounts" not in holder.__dict__:  # already loaded in this session: left as it is
        set_committed_value(holder, "accounts",
                            [account for _, account in rows if account is not None])
    return holder


# How the signed-in user of each kind is read, once per request, always from the database:
# prefix -> a function of the id giving the user (or None). It must answer
# `session_version` and `is_active` from the row as it is now; what it gives is the request's
# own (a staff member is a light object: `portal.staff.signed_in`).
_LOADERS: dict[str, Callable[[int], object | None]] = {"c": _load_cardholder}


def register_user_kind(prefix: str, model: type,
                       loader: Callable[[int], object | None] | None = None) -> None:
    """Load users whose session id starts with `prefix:` with `loader(id)`, or as the `model`
    row by id."""
    _USER_KINDS[prefix] = model
    _LOADERS[prefix] = loader or (lambda user_id: db.session.get(model, user_id))


def init_login_manager(manager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to continue.")
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(user_id: str):
        kind, _, raw = user_id.partition(":")
        if not raw.isdigit():
            return None
        loader = _LOADERS.get(kind)
        if loader is None:
            return None
        user = loader(int(raw))
        if user is None or session.get(_VERSION) != user.session_version:
            return None  # signed out, password reset or enrolled since: this session is over
        # A staff account switched off while signed in keeps no access: its session is nobody's.
        return user if user.is_active else None


def keep_across_sign_in(key: str) -> None:
    """Let the session value under `key` survive sign-in (it must grant no access)."""
    _KEPT_ACROSS_SIGN_IN.add(key)


def start_session(user) -> None:
    """Sign `user` in on a fresh session: nothing from before sign-in survives but the
    language and the keys registered with `keep_across_sign_in`."""
    kept = {key: session[key] for key in _KEPT_ACROSS_SIGN_IN if session.get(key)}
    session.clear()
    session.update(kept)
    session["sid"] = secrets.token_urlsafe(16)  # new value, new cookie: the old one is useless
    session[_STARTED] = session[_LAST_SEEN] = utcnow().timestamp()
    session.permanent = True
    session[_VERSION] = user.session_version
    login_user(user)


def end_all_sessions(user) -> None:
    """Make every session opened so far for `user` invalid (the caller commits). Sessions
    are signed cookies, so they cannot be deleted; the version they carry stops matching.
    `user` may be the light signed-in user of a request: its row is written."""
    row = user.entity() if hasattr(user, "entity") else user
    row.session_version = (row.session_version or 0) + 1


def end_session() -> None:
    logout_user()
    session.clear()


# Endpoints no person signs in to: load balancers, job health, the provider's webhooks.
_NO_SESSION = (None, "static", "core.healthz", "jobs.health", "payments.webhook")


def enforce_idle_timeout():
    """Sign out a user idle longer than their kind's limit, or signed in longer than their
    kind's session limit however active; otherwise note the activity."""
    if request.endpoint in _NO_SESSION:
        return None
    user = current_user._get_current_object()  # the proxy looked through once, not three times
    if not user.is_authenticated:
        return None
    staff = user.is_staff
    config = current_app.config
    idle = config["STAFF_IDLE_TIMEOUT" if staff else "CARDHOLDER_IDLE_TIMEOUT"]
    longest = config["STAFF_MAX_SESSION" if staff else "CARDHOLDER_MAX_SESSION"]
    now = utcnow().timestamp()
    current = session._get_current_object()
    last_seen, started = current.get(_LAST_SEEN), current.get(_STARTED)
    if last_seen is None or now - last_seen > idle.total_seconds():
        message = _l("You were signed out after a period of inactivity.")
    elif started is None or now - started > longest.total_seconds():
        message = _l("For your security you were signed out; please sign in again.")
    else:
        if now - last_seen >= LAST_SEEN_STEP:
            current[_LAST_SEEN] = now
        return None
    end_session()
    flash(message, "info")
    return redirect(url_for("staff.login" if staff else "auth.login"))


def cardholder_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def staff_required(*roles):
    """Staff only; with roles given, at least one of them."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("staff.login", next=request.full_path))
            if not current_user.is_staff or (roles and not current_user.has_role(*roles)):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator
