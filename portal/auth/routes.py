"""Cardholder sign-in, first-time enrolment ("set up online access") and password reset."""
from __future__ import annotations

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth import services
from portal.auth.codes import CodeCheck
from portal.auth.forms import CodeForm, EmptyForm, EnrolForm, ForgotForm, LoginForm, NewPasswordForm
from portal.auth.models import CodePurpose
from portal.auth.session import end_session, start_session
from portal.core.urls import safe_next
from portal.extensions import db, limiter

bp = Blueprint("auth", __name__)

_PENDING = {CodePurpose.ENROL: "enrol_code", CodePurpose.RESET: "reset_code"}
_START = {CodePurpose.ENROL: "auth.enrol", CodePurpose.RESET: "auth.forgot"}
_STEP = {CodePurpose.ENROL: "auth.enrol_code", CodePurpose.RESET: "auth.forgot_code"}
_RESEND_LIMIT = "5 per 15 minutes"


def _ip_limit():
    return current_app.config["LOGIN_RATE_LIMIT_IP"]


def _identity_limit():
    return current_app.config["LOGIN_RATE_LIMIT_IDENTITY"]


def _identity_key():
    return "identity:" + services.normalise_identity(request.form.get("identity"))


def _account_key():
    return "account:" + "".join((request.form.get("account_number") or "").split())


def limited(key=None, deduct_when=None):
    """Per-IP limit on POST, plus a per-identity one when `key` names the identity. With
    `deduct_when(response)`, only the attempts it picks use up the allowance."""
    def decorator(view):
        view = limiter.limit(_ip_limit, methods=["POST"], deduct_when=deduct_when)(view)
        if key is not None:
            view = limiter.limit(_identity_limit, key_func=key, methods=["POST"],
                                 deduct_when=deduct_when)(view)
        return view
    return decorator


def _not_signed_in(_response) -> bool:
    """A sign-in that succeeded is no guess: only the others count against the limits."""
    return not g.get("signed_in")


def _dashboard():
    return url_for("accounts.dashboard")


def _pending(purpose) -> dict | None:
    return session.get(_PENDING[purpose])


def _set_pending(purpose, code_id, who=None) -> None:
    session[_PENDING[purpose]] = {"id": code_id, "tries": 0, "who": who}


def _code_key():
    """Rate-limit key for guessing one code: the code itself, or for a reset the identity
    typed (so a reset for nobody is limited exactly like a real one, across resends)."""
    purpose = CodePurpose.ENROL if request.endpoint == "auth.enrol_code" else CodePurpose.RESET
    pending = session.get(_PENDING[purpose]) or {}
    return f"code:{purpose.value}:{pending.get('who') or pending.get('id')}"


def _start_over(purpose, message):
    session.pop(_PENDING[purpose], None)
    flash(message, "error")
    return redirect(url_for(_START[purpose]))


def _masked_destination(holder) -> dict:
    if holder.phone:
        return {"phone_end": holder.phone[-4:]}
    local, _at, domain = holder.email.partition("@")
    return {"email": f"{local[:1]}***@{domain}"}


# ---- sign in / out -------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limited(_identity_key, deduct_when=_not_signed_in)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("core.index"))
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        result = services.authenticate(form.identity.data, form.password.data)
        db.session.commit()
        if result.status == services.LoginStatus.OK:
            start_session(result.user)
            g.signed_in = True
            return redirect(safe_next(form.next.data) or _dashboard())
        if result.status == services.LoginStatus.LOCKED:
            form.form_errors.append(_("Too many attempts. Please try again later, or reset "
                                      "your password."))
        else:
            form.form_errors.append(_("The mobile number, email or password is not right. "
                                      "Please check them and try again."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.record_logout(current_user)
        db.session.commit()
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


# ---- set up online access ------------------------------------------------------------------

@bp.route("/enrol", methods=["GET", "POST"])
@limited(_account_key)
def enrol():
    form = EnrolForm()
    if form.validate_on_submit():
        started = services.start_enrolment(form.account_number.data, form.date_of_birth.data,
                                           form.card_last4.data)
        db.session.commit()
        if started.status == services.EnrolStatus.SENT:
            _set_pending(CodePurpose.ENROL, started.code.id)
            return redirect(url_for("auth.enrol_code"))
        if started.status == services.EnrolStatus.THROTTLED:
            form.form_errors.append(_("We have already sent you several codes. Please wait "
                                      "15 minutes and try again."))
        else:
            form.form_errors.append(_(
                "We could not find an account that matches all three details. Please check "
                "them against your card and your latest statement. If you have set up online "
                "access before, sign in or reset your password instead."))
    return render_template("auth/enrol.html", form=form)


def _code_step(purpose, template):
    pending = _pending(purpose)
    if pending is None:
        return _start_over(purpose, _("Please start again."))
    form = CodeForm()
    if form.validate_on_submit():
        if pending["id"] is None:  # a reset for nobody: behave like a real wrong code
            pending["tries"] += 1
            session.modified = True
            left = current_app.config["OTP_MAX_ATTEMPTS"] - pending["tries"]
            status = CodeCheck.WRONG if left > 0 else CodeCheck.DEAD
        else:
            result = services.check_code(pending["id"], purpose, form.code.data)
            db.session.commit()
            status, left = result.status, result.tries_left
        if status == CodeCheck.OK:
            return redirect(url_for("auth.enrol_password" if purpose == CodePurpose.ENROL
                                    else "auth.forgot_password"))
        if status == CodeCheck.DEAD:
            return _start_over(purpose, _("This code can no longer be used: it has expired or "
                                          "was entered wrongly too many times. Please start "
                                          "again to get a new code."))
        form.code.errors.append(_("That code is not right. Tries left: %(left)s.", left=left))
    holder = services.pending_holder(pending["id"]) if purpose == CodePurpose.ENROL else None
    return render_template(template, form=form, resend_form=EmptyForm(),
                           destination=_masked_destination(holder) if holder else {},
                           minutes=current_app.config["OTP_TTL_MINUTES"])


def _resend_reset(pending):
    if not pending.get("who"):
        return _start_over(CodePurpose.RESET, _("Please start again."))
    allowed, code_id = services.resend_reset(pending["id"], pending["who"])
    db.session.commit()
    if not allowed:
        flash(_("We have already sent you several codes. Please wait 15 minutes and try "
                "again."), "error")
        return redirect(url_for(_STEP[CodePurpose.RESET]))
    _set_pending(CodePurpose.RESET, code_id or pending["id"], pending["who"])
    flash(_("We sent a new code. Earlier codes no longer work."), "info")
    return redirect(url_for(_STEP[CodePurpose.RESET]))


def _resend(purpose):
    pending = _pending(purpose)
    if pending is None:
        return _start_over(purpose, _("Please start again."))
    if purpose == CodePurpose.RESET:
        return _resend_reset(pending)
    code = services.resend_code(pending["id"], purpose)
    db.session.commit()
    if code is None:
        flash(_("We have already sent you several codes. Please wait 15 minutes and try "
                "again."), "error")
        return redirect(url_for(_STEP[purpose]))
    _set_pending(purpose, code.id)
    flash(_("We sent a new code. Earlier codes no longer work."), "info")
    return redirect(url_for(_STEP[purpose]))


@bp.route("/enrol/code", methods=["GET", "POST"])
@limited(_code_key)
def enrol_code():
    return _code_step(CodePurpose.ENROL, "auth/enrol_code.html")


@bp.post("/enrol/code/resend")
@limiter.limit(_RESEND_LIMIT)
def enrol_resend():
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.enrol_code"))
    return _resend(CodePurpose.ENROL)


@bp.route("/enrol/password", methods=["GET", "POST"])
@limited()
def enrol_password():
    pending = _pending(CodePurpose.ENROL)
    code = services.verified_code(pending["id"] if pending else None, CodePurpose.ENROL)
    if code is None:
        return _start_over(CodePurpose.ENROL, _("Please start again."))
    holder = services.pending_holder(code.id)
    form = NewPasswordForm(user_inputs=services.password_inputs(holder))
    if form.validate_on_submit():
        try:
            holder = services.complete_enrolment(code.id, form.password.data)
        except services.CodeNotVerified:
            db.session.rollback()
            return _start_over(CodePurpose.ENROL, _("Please start again."))
        db.session.commit()
        start_session(holder)
        flash(_("Your online access is set up. Welcome."), "success")
        return redirect(_dashboard())
    return render_template("auth/enrol_password.html", form=form)


# ---- forgot password -----------------------------------------------------------------------

@bp.route("/forgot", methods=["GET", "POST"])
@limited(_identity_key)
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        code_id = services.start_reset(form.identity.data)
        db.session.commit()
        _set_pending(CodePurpose.RESET, code_id, services.reset_token(form.identity.data))
        flash(_("If we know this mobile number or email, we have sent a code to the phone or "
                "email we have on file for you."), "info")
        return redirect(url_for("auth.forgot_code"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/forgot/code", methods=["GET", "POST"])
@limited(_code_key)
def forgot_code():
    return _code_step(CodePurpose.RESET, "auth/forgot_code.html")


@bp.post("/forgot/code/resend")
@limiter.limit(_RESEND_LIMIT)
def forgot_resend():
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.forgot_code"))
    return _resend(CodePurpose.RESET)


@bp.route("/forgot/password", methods=["GET", "POST"])
@limited()
def forgot_password():
    pending = _pending(CodePurpose.RESET)
    code = services.verified_code(pending["id"] if pending else None, CodePurpose.RESET)
    if code is None:
        return _start_over(CodePurpose.RESET, _("Please start again."))
    holder = services.pending_holder(code.id)
    form = NewPasswordForm(user_inputs=services.password_inputs(holder))
    if form.validate_on_submit():
        try:
            services.complete_reset(code.id, form.password.data)
        except services.CodeNotVerified:
            db.session.rollback()
            return _start_over(CodePurpose.RESET, _("Please start again."))
        db.session.commit()
        session.pop(_PENDING[CodePurpose.RESET], None)
        flash(_("Your password has been changed. Please sign in with your new password."),
              "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)
