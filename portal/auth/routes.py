"""Cardholder sign-in, enrolment and password reset (stub: being built)."""
from flask import Blueprint, redirect, render_template, url_for

from portal.auth.session import end_session

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return render_template("auth/login.html")


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("auth.login"))
