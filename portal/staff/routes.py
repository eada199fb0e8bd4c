"""Staff sign-in and role home pages (stub: being built)."""
from flask import Blueprint, redirect, render_template, url_for

from portal.auth.session import end_session, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/login", methods=["GET", "POST"])
def login():
    return render_template("staff/login.html")


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required()
def home():
    return render_template("staff/home.html")
