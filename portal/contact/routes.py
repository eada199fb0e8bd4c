"""Contact preferences (signed-in cardholder) and the no-login opt-out link from emails."""
from __future__ import annotations

from babel.dates import format_time
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Cardholder
from portal.auth.session import cardholder_required
from portal.contact import clock, services
from portal.contact.footer import read_token
from portal.contact.forms import OptOutForm, PreferencesForm
from portal.core.nav import cardholder_entry
from portal.extensions import db
from portal.outbox.models import Channel

bp = Blueprint("contact", __name__, url_prefix="/contact")
NAV = (
    cardholder_entry("contact.preferences", _l("Contact preferences"), order=80),
)


@bp.route("/preferences", methods=["GET", "POST"])
@cardholder_required
def preferences():
    holder = current_user
    form = PreferencesForm()
    if form.validate_on_submit():
        changed = [services.set_preference(holder, Channel.EMAIL, on=form.email_on.data,
                                           source="page"),
                   services.set_preference(holder, Channel.SMS, on=form.sms_on.data,
                                           source="page")]
        db.session.commit()
        flash(_("Your choices are saved.") if any(changed) else _("Nothing changed."),
              "success")
        return redirect(url_for("contact.preferences"))
    current = services.preferences(holder)
    if not form.is_submitted():
        form.email_on.data, form.sms_on.data = current["email"], current["sms"]
    rules = services.rules_for(holder, None, clock.now())
    hours = {"start": format_time(rules.start, format="short", locale=get_locale()),
             "end": format_time(rules.end, format="short", locale=get_locale())}
    return render_template("contact/preferences.html", form=form, current=current,
                           holder=holder, hours=hours), 422 if form.errors else 200


def _token_target(token: str) -> tuple[Cardholder, Channel]:
    found = read_token(token)
    holder = db.session.get(Cardholder, found[0]) if found else None
    if holder is None:
        abort(404)
    return holder, found[1]


@bp.route("/opt-out/<token>", methods=["GET", "POST"])
def opt_out(token):
    """No sign-in needed: the signed token names the cardholder and the channel. GET only
    asks; the POST (with CSRF) records the choice, so a mail scanner opening the link
    changes nothing."""
    holder, channel = _token_target(token)
    form = OptOutForm()
    if channel == Channel.SMS:
        form.submit.label.text = _("Yes, stop these texts")
    if form.validate_on_submit():
        services.set_preference(holder, channel, on=False, source="link",
                                actor=("cardholder", holder.id))
        db.session.commit()
        return render_template("contact/opt_out_done.html", channel=channel.value)
    return render_template("contact/opt_out.html", form=form, channel=channel.value,
                           already=not services.preferences(holder)[channel.value]), \
        422 if form.errors else 200
