"""The one-tap link from a reminder: `/l/<token>` asks a light check, `/l/continue` shows
what the message was about and sends the cardholder to sign in for the page it leads to.

Every link that does not work (unknown, expired, used, revoked, voided) gets the same page
with the same status, so the answer says nothing about which it was; nothing about the account
shows before the check is passed, and passing it signs nobody in."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Account
from portal.extensions import db, limiter
from portal.links import services
from portal.links.forms import LightCheckForm

bp = Blueprint("links", __name__)


@bp.after_request
def _no_referrer(response):
    """The token is in the address: not even our own pages get it as a Referer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _ip_limit():
    return current_app.config["LOGIN_RATE_LIMIT_IP"]


def _gone():
    return render_template("links/gone.html"), 404


@bp.route("/l/<token>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def open(token):  # noqa: A001 - the endpoint's name in messages: links.open
    link = services.usable(token)
    if link is None:
        return _gone()
    form = LightCheckForm()
    if form.validate_on_submit():
        passed = services.check(link, form.card_last4.data or None, form.date_of_birth.data)
        db.session.commit()
        if passed:
            return redirect(url_for("links.landing"))
        if passed is None:  # voided by this answer (or used meanwhile): the common page
            return redirect(url_for("links.open", token=token))
        _wrong_answer(form)
        return render_template("links/check.html", form=form)
    return render_template("links/check.html", form=form), 422 if form.errors else 200


def _wrong_answer(form: LightCheckForm) -> None:
    """Empty what was typed and say which answer did not match (both, when both were given)."""
    if form.card_last4.data:
        form.card_last4.errors = [_("These digits do not match. Please check your card and "
                                    "try again.")]
    if form.date_of_birth.data is not None:
        form.date_of_birth.errors = [_("This date of birth does not match. Please check it and "
                                       "try again.")]
    form.card_last4.data, form.date_of_birth.data = "", None
    form.date_of_birth.raw_data = []


@bp.get("/l/continue")
def landing():
    link = services.granted_link()
    if link is None:
        return _gone()
    account = db.session.get(Account, link.account_id)
    endpoint, args = services.target_url(link.purpose, account.id)
    target = url_for(endpoint, **args)
    signed_in = (current_user.is_authenticated and not current_user.is_staff
                 and current_user.id == link.cardholder_id)
    go = target if signed_in else url_for("auth.login", next=target)
    return render_template("links/landing.html", link=link, account=account, go=go,
                           signed_in=signed_in)
