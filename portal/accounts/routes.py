"""Cardholder pages about their accounts (stub: the dashboard grows with the balances work)."""
from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.auth.session import cardholder_required
from portal.core.nav import cardholder_entry

bp = Blueprint("accounts", __name__)
cardholder_entry("accounts.dashboard", _l("My accounts"), order=10)


@bp.get("/home")
@cardholder_required
def dashboard():
    return render_template("accounts/dashboard.html", accounts=current_user.accounts)
