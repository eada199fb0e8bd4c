"""Staff sign-in (password, then TOTP) and each role's home page."""
from __future__ import annotations

from collections.abc import Callable

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.accounts.labels import line_label
from portal.auth.lockout import is_locked
from portal.auth.session import end_session, staff_required, start_session
from portal.core.nav import staff_entry, staff_tools
from portal.core.urls import safe_next
from portal.extensions import db, limiter
from portal.staff import services
from portal.staff.forms import StaffLoginForm, TotpForm
from portal.staff.labels import ROLE_NAMES, role_name
from portal.staff.models import Role
from portal.timeutil import utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.add_app_template_global(role_name)  # every page names a role in words, never by its code
# The ledger panel of templates/staff/_account_context.html names its lines like the history.
bp.add_app_template_global(line_label, "line_label")

_PENDING = "staff_pending"
_PENDING_SECONDS = 300  # time allowed between the password and the code

# role -> (endpoint, label): the order here is the order of links and nav entries
ROLE_HOMES = {
    Role.CUSTOMER_SERVICE: ("staff.service_home", _l("Customer service")),
    Role.COLLECTOR: ("staff.collections_home", _l("Collections")),
    Role.COLLECTIONS_MANAGER: ("staff.manager_home", _l("Team management")),
    Role.RISK: ("staff.risk_home", _l("Risk and policy")),
    Role.LEGAL: ("staff.legal_home", _l("Legal")),
    Role.ADMIN: ("staff.admin_home", _l("Staff administration")),
}
NAV = tuple(staff_entry(endpoint, label, roles=[role], order=10 + order)
            for order, (role, (endpoint, label)) in enumerate(ROLE_HOMES.items()))

# role -> the view a feature shows as that role's home page (registered in portal.wiring)
_home_views: dict[Role, Callable[[], ResponseReturnValue]] = {}


def register_home_view(role: Role, view: Callable[[], ResponseReturnValue]) -> None:
    """Show a feature's page (e.g. the legal workspace) as `role`'s home page."""
    _home_views[role] = view


def _ip_limit():
    return current_app.config["LOGIN_RATE_LIMIT_IP"]


def _identity_limit():
    return current_app.config["LOGIN_RATE_LIMIT_IDENTITY"]


def _email_key():
    return "staff-email:" + services.normalise_email(request.form.get("email"))


def _pending_key():
    pending = session.get(_PENDING) or {}
    return f"staff-pending:{pending.get('id')}"


_INVALID = _l("The email, password or code is not right. Please check them and try again.")
_LOCKED = _l("Too many attempts. Please try again later.")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_identity_limit, key_func=_email_key, methods=["POST"])
def login():
    if current_user.is_authenticated and current_user.is_staff and request.method == "GET":
        return redirect(url_for("staff.home"))
    form = StaffLoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        result = services.check_password(form.email.data, form.password.data)
        db.session.commit()
        if result.status == services.StaffLogin.OK:
            session[_PENDING] = {"id": result.user.id, "at": utcnow().timestamp(),
                                 "next": safe_next(form.next.data)}
            return redirect(url_for("staff.login_code"))
        form.form_errors.append(str(_LOCKED if result.status == services.StaffLogin.LOCKED
                                    else _INVALID))
    return render_template("staff/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_identity_limit, key_func=_pending_key, methods=["POST"])
def login_code():
    pending = session.get(_PENDING)
    if not pending or utcnow().timestamp() - pending["at"] > _PENDING_SECONDS:
        session.pop(_PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("staff.login"))
    form = TotpForm()
    if form.validate_on_submit():
        result = services.check_totp(pending["id"], form.code.data)
        db.session.commit()
        if result.status == services.StaffLogin.OK:
            start_session(result.user)  # also drops the pending first step
            return redirect(pending.get("next") or url_for("staff.home"))
        if result.status == services.StaffLogin.LOCKED:
            session.pop(_PENDING, None)
            flash(str(_LOCKED), "error")
            return redirect(url_for("staff.login"))
        form.code.errors.append(str(_INVALID))
    return render_template("staff/login_code.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated and current_user.is_staff:
        services.record_logout(current_user)
        db.session.commit()
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required()
def home():
    homes = [(endpoint, label) for role, (endpoint, label) in ROLE_HOMES.items()
             if current_user.has_role(role)]
    if len(homes) == 1:
        return redirect(url_for(homes[0][0]))
    return render_template("staff/home.html", homes=homes)


@bp.get("/service")
@staff_required(Role.CUSTOMER_SERVICE)
def service_home():
    return render_template("staff/service_home.html", tools=staff_tools(Role.CUSTOMER_SERVICE))


@bp.get("/collections")
@staff_required(Role.COLLECTOR)
def collections_home():
    return render_template("staff/collections_home.html", tools=staff_tools(Role.COLLECTOR))


@bp.get("/manager")
@staff_required(Role.COLLECTIONS_MANAGER)
def manager_home():
    return render_template("staff/manager_home.html", tools=staff_tools(Role.COLLECTIONS_MANAGER))


@bp.get("/risk")
@staff_required(Role.RISK)
def risk_home():
    return render_template("staff/risk_home.html", tools=staff_tools(Role.RISK))


@bp.get("/legal")
@staff_required(Role.LEGAL)
def legal_home():
    view = _home_views.get(Role.LEGAL)
    if view is None:
        abort(404)
    return view()  # the legal workspace


@bp.get("/admin")
@staff_required(Role.ADMIN)
def admin_home():
    users = services.list_staff()
    return render_template("staff/admin_home.html", staff_users=users, role_names=ROLE_NAMES,
                           locked={u.id for u in users if is_locked(u)},
                           pending={u.id for u in users if u.setup_pending})
