"""Front door, health check and language choice."""
from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.audit.services import record
from portal.extensions import db
from portal.i18n import LOCALE_COOKIE
from portal.core.urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        if current_user.is_staff:
            return redirect(url_for("staff.home"))
        return redirect(url_for("accounts.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to answer means: take this instance out of rotation
        db.session.rollback()
        return jsonify(db="unavailable"), 503
    return jsonify(db="ok")


@bp.post("/locale")
def set_locale():
    """Remember the chosen language in a cookie and, for a cardholder, in their profile."""
    locale = request.form.get("locale")
    target = safe_next(request.form.get("next")) or url_for("core.index")
    response = redirect(target)
    if locale not in current_app.config["LANGUAGES"]:
        return response
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    if current_user.is_authenticated and not current_user.is_staff and current_user.locale != locale:
        holder = current_user._get_current_object()
        before, holder.locale = holder.locale, locale  # later messages and letters follow it
        record("cardholder.locale_changed", subject=holder,
               before={"locale": before}, after={"locale": locale})
        db.session.commit()
    return response
