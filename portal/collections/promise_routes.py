"""The cardholder's promise to pay, online: the page with their promises (theirs and those a
collector logged, together) and the form to make one within the policy."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.accounts import queries
from portal.auth.session import cardholder_required
from portal.collections import promise_rules as rules, promises
from portal.collections.promise_forms import PromiseForm
from portal.core.filters import long_date, money
from portal.core.forms import parse_money_fields
from portal.extensions import db
from portal.links.services import record_outcome

bp = Blueprint("promises", __name__)

STATUS = {"pending": _l("Open"), "kept": _l("Kept"), "broken": _l("Broken")}


def _problem_messages(codes, bounds: rules.Limits, currency: str) -> dict[str, list[str]]:
    """Field -> sentences for the amount and date problems (promise_rules codes)."""
    least, most = money(bounds.least, currency), money(bounds.most, currency)
    latest = long_date(bounds.latest)
    found = {"amount": [], "promised_on": []}
    for code in codes:
        if code == rules.AMOUNT_TOO_SMALL:
            found["amount"].append(_("The smallest amount you can promise is %(least)s.",
                                     least=least))
        elif code == rules.AMOUNT_TOO_LARGE:
            found["amount"].append(_("You can promise at most %(most)s, what you owe in total.",
                                     most=most))
        elif code == rules.DATE_PAST:
            found["promised_on"].append(_("Choose today or a later date."))
        elif code == rules.DATE_TOO_FAR:
            found["promised_on"].append(_("Choose a date no later than %(latest)s.",
                                          latest=latest))
    return found


def _page(account, form, status=200):
    today = queries.cardholder_today()
    views = promises.account_promises(account, today)
    found = promises.eligibility(account, today, views)
    form.promised_on.render_kw = {"min": found.limits.earliest.isoformat(),
                                  "max": found.limits.latest.isoformat()}
    return render_template("collections/promise.html", account=account, form=form,
                           views=views, eligible=found, statuses=STATUS,
                           today=today), status


@bp.get("/accounts/<int:account_id>/promise")
@cardholder_required
def page(account_id):
    account = queries.owned_account_or_404(account_id)
    return _page(account, PromiseForm(formdata=None))


@bp.post("/accounts/<int:account_id>/promise")
@cardholder_required
def make(account_id):
    account = queries.owned_account_or_404(account_id)
    form = PromiseForm()
    valid = form.validate_on_submit()
    if not (parse_money_fields(form, account.currency, ("amount",)) and valid):
        return _page(account, form, 422)
    today = queries.cardholder_today()
    try:
        promise = promises.make_promise(account, current_user, form.amount.minor,
                                        form.promised_on.data, today,
                                        ip_address=request.remote_addr)
        record_outcome("promise", promise.id, account.id)  # the message that led here, if any
        db.session.commit()
    except promises.PromiseRefused as exc:
        db.session.rollback()
        bounds = promises.eligibility(account, today).limits
        for name, messages in _problem_messages(exc.codes, bounds, account.currency).items():
            getattr(form, name).errors = list(getattr(form, name).errors) + messages
        if not any(getattr(form, n).errors for n in ("amount", "promised_on")):
            form.form_errors.append(_("You cannot make a promise to pay online now."))
        return _page(account, form, 422)
    flash(_("Thank you. You promised to pay %(amount)s by %(date)s. While your promise is "
            "open, the next steps on this account are paused until %(last)s.",
            amount=money(promise.amount, promise.currency), date=long_date(promise.promised_on),
            last=long_date(promise.last_day)), "success")
    return redirect(url_for(".page", account_id=account.id))
