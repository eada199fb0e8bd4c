"""Failed sign-in counting and lockout, shared by cardholders and staff.

Works on any row with `failed_logins` and `locked_until`. Unknown identities get the same
treatment from a counter in the rate-limit store, so a lockout never tells an attacker that
an identity exists.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from limits import parse
from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db, limiter
from portal.timeutil import as_aware, utcnow


def is_locked(user) -> bool:
    until = as_aware(user.locked_until)
    return until is not None and until > utcnow()


def note_failure(user) -> bool:
    """Count one failed attempt; return True when this failure locks the account.

    The count is raised in the database (failed_logins = failed_logins + 1), so failures
    arriving in parallel are all counted, none lost to a read-modify-write."""
    model = type(user)
    now = utcnow()
    same_row = model.id == user.id
    sync = {"synchronize_session": False}
    if user.locked_until is not None and not is_locked(user):
        # an old lock ran out: start counting afresh
        db.session.execute(update(model).where(same_row, model.locked_until <= now)
                           .values(failed_logins=0, locked_until=None), execution_options=sync)
        set_committed_value(user, "locked_until", None)
    failures = db.session.execute(
        update(model).where(same_row)
        .values(failed_logins=func.coalesce(model.failed_logins, 0) + 1)
        .returning(model.failed_logins), execution_options=sync).scalar_one()
    set_committed_value(user, "failed_logins", failures)
    if failures >= current_app.config["LOGIN_LOCKOUT_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        user.failed_logins = 0
        return True
    return False


def note_success(user) -> None:
    user.failed_logins = 0
    user.locked_until = None


def _phantom_limit():
    cfg = current_app.config
    return parse(f"{cfg['LOGIN_LOCKOUT_FAILURES']} per {cfg['LOGIN_LOCKOUT_MINUTES']} minutes")


def phantom_failure(namespace: str, identity: str) -> bool:
    """Count a failure for an identity nobody has; True once it 'locks' like a real one."""
    try:
        limiter.limiter.hit(_phantom_limit(), "phantom-lock", namespace, identity)
    except Exception:  # the rate-limit store being down must not break sign-in
        return False
    return phantom_locked(namespace, identity)


def phantom_locked(namespace: str, identity: str) -> bool:
    try:
        return not limiter.limiter.test(_phantom_limit(), "phantom-lock", namespace, identity)
    except Exception:
        return False
