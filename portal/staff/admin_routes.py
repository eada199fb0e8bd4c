"""Administrators manage staff (create, roles, switch off and on, reset the authenticator), and
the one-time set-up page a new member opens from their email. Rules: portal/staff/management.py."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.auth.forms import PASSWORD_MESSAGES
from portal.auth.lockout import is_locked
from portal.auth.passwords import password_problem, personal_inputs
from portal.auth.session import staff_required
from portal.extensions import db, limiter
from portal.staff import management
from portal.staff.forms import ConfirmForm, MemberForm, RolesForm, SetupForm
from portal.staff.models import Role, StaffUser
from portal.staff.routes import ROLE_NAMES
from portal.staff.services import DuplicateEmail, StaffError, UnknownRole

bp = Blueprint("staff_admin", __name__, url_prefix="/staff")
ADMIN = Role.ADMIN

LAST_ADMIN = _l("This would leave the portal without an administrator who can sign in. "
                "Give the administrator role to another active staff member first.")
NO_ROLE = _l("Choose at least one role.")
DUPLICATE = _l("A staff member with this email already exists.")
BAD_EMAIL = _l("Enter an email address such as name@example.com.")
SWITCHED_OFF = _l("This account is switched off. Switch it on first.")
HISTORY_LABELS = {
    "staff.created": _l("Account created"),
    "staff.setup_link_sent": _l("Set-up link emailed"),
    "staff.setup_completed": _l("Password and authenticator set"),
    "staff.roles_changed": _l("Roles changed"),
    "staff.disabled": _l("Switched off"),
    "staff.enabled": _l("Switched on"),
    "staff.authenticator_reset": _l("Authenticator reset"),
}
SETUP_ERRORS = {
    "code": _l("That code is not the one your app shows now. Check that you added the key "
               "below, then type the newest code."),
    "used": _l("This link has already been used."),
}


def _ip_limit():
    return current_app.config["LOGIN_RATE_LIMIT_IP"]


def _role_choices():
    return [(role.value, str(ROLE_NAMES[role])) for role in Role]


def _link_url(token: str) -> str:
    return url_for("staff_admin.setup", token=token, _external=True)


def _member(staff_id: int) -> StaffUser:
    member = db.session.get(StaffUser, staff_id)
    if member is None:
        abort(404)
    return member


def _member_page(member: StaffUser, roles_form=None, error=None, status=200):
    if roles_form is None:
        # formdata=None: after a refused switch-off the posted form must not blank the boxes
        roles_form = RolesForm(formdata=None, data={"roles": sorted(r.value for r in member.roles)})
        roles_form.roles.choices = _role_choices()
    return render_template("staff/admin_member.html", member=member, roles_form=roles_form,
                           confirm=ConfirmForm(), role_names=ROLE_NAMES, error=error,
                           locked=is_locked(member), pending=member.setup_pending,
                           history=management.history(member), history_labels=HISTORY_LABELS,
                           myself=member.id == current_user.id), status


@bp.route("/admin/new", methods=["GET", "POST"])
@staff_required(ADMIN)
def create():
    form = MemberForm()
    form.roles.choices = _role_choices()
    if form.validate_on_submit():
        try:
            member = management.create_member(form.email.data, form.name.data, form.roles.data,
                                              form.locale.data, actor=current_user,
                                              link_url=_link_url)
        except DuplicateEmail:
            db.session.rollback()
            form.email.errors.append(str(DUPLICATE))
        except UnknownRole:
            db.session.rollback()
            form.roles.errors.append(str(NO_ROLE))
        except StaffError:  # the form's own checks catch this first; the service checks again
            db.session.rollback()
            form.email.errors.append(str(BAD_EMAIL))
        else:
            db.session.commit()
            hours = int(current_app.config["STAFF_SETUP_LINK_TTL"].total_seconds() // 3600)
            flash(_("%(name)s can now be set up: we emailed %(email)s a link to choose a "
                    "password and add an authenticator. It works once, for %(hours)d hours.",
                    name=member.name, email=member.email, hours=hours), "success")
            return redirect(url_for("staff_admin.member", staff_id=member.id))
    return render_template("staff/admin_new.html", form=form)


@bp.get("/admin/<int:staff_id>")
@staff_required(ADMIN)
def member(staff_id):
    return _member_page(_member(staff_id))


@bp.post("/admin/<int:staff_id>/roles")
@staff_required(ADMIN)
def roles(staff_id):
    member = _member(staff_id)
    form = RolesForm()
    form.roles.choices = _role_choices()
    if not form.validate():
        return _member_page(member, roles_form=form)
    try:
        management.change_roles(member, form.roles.data)
    except management.LastAdmin:
        db.session.rollback()
        return _member_page(member, error=LAST_ADMIN)
    db.session.commit()
    flash(_("The roles of %(name)s are changed.", name=member.name), "success")
    return redirect(url_for("staff_admin.member", staff_id=member.id))


def _switch(staff_id, active: bool):
    member = _member(staff_id)  # CSRFProtect has checked the token of every POST
    try:
        management.set_active(member, active)
    except management.LastAdmin:
        db.session.rollback()
        return _member_page(member, error=LAST_ADMIN)
    db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=member.name), "success")
    else:
        flash(_("%(name)s is switched off and signed out everywhere.", name=member.name),
              "success")
    return redirect(url_for("staff_admin.member", staff_id=member.id))


@bp.post("/admin/<int:staff_id>/disable")
@staff_required(ADMIN)
def disable(staff_id):
    return _switch(staff_id, False)


@bp.post("/admin/<int:staff_id>/enable")
@staff_required(ADMIN)
def enable(staff_id):
    return _switch(staff_id, True)


@bp.post("/admin/<int:staff_id>/reset-authenticator")
@staff_required(ADMIN)
def reset_authenticator(staff_id):
    member = _member(staff_id)
    try:
        management.reset_authenticator(member, actor=current_user, link_url=_link_url)
    except StaffError:
        db.session.rollback()
        return _member_page(member, error=SWITCHED_OFF)
    db.session.commit()
    if member.id == current_user.id:
        flash(_("Your authenticator is reset: open the link we emailed you to add a new one."),
              "info")
        return redirect(url_for("staff.login"))
    flash(_("The authenticator of %(name)s is reset and they are signed out; we emailed "
            "them a link to add a new one.", name=member.name), "success")
    return redirect(url_for("staff_admin.member", staff_id=member.id))


@bp.route("/setup/<token>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def setup(token):
    link = management.link_for(token)
    if link is None:
        return render_template("staff/setup_expired.html"), 404
    member = management.member_of(link)
    form = SetupForm(user_inputs=personal_inputs(name=member.name, email=member.email))
    if form.validate_on_submit():
        try:
            management.complete_setup(link, form.password.data, form.code.data)
        except management.SetupRefused as refused:
            db.session.rollback()
            if refused.reason == "password":  # the form checked it; the service checks again
                problem = password_problem(form.password.data, form.user_inputs)
                form.password.errors.append(str(PASSWORD_MESSAGES[problem]))
            else:
                form.code.errors.append(str(SETUP_ERRORS[refused.reason]))
        else:
            db.session.commit()
            flash(_("Your staff account is ready. Sign in with your email, your new password "
                    "and a code from your app."), "success")
            return redirect(url_for("staff.login"))
    secret = link.totp_secret
    return render_template("staff/setup.html", form=form, member=member, link=link,
                           key=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                           uri=management.provisioning_uri(link))
