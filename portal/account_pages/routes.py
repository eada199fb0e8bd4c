"""Cardholder pages about their own accounts: dashboard, history, timeline and notices."""
from flask import Blueprint, Response, abort, get_template_attribute, render_template, request
from markupsafe import Markup
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user

from portal.account_pages import views
from portal.accounts import queries
from portal.accounts.forms import HistoryFilterForm
from portal.accounts.labels import line_label
from portal.accounts.queries import HistoryFilter
from portal.auth.session import cardholder_required
from portal.core.database import read_only
from portal.core.nav import cardholder_entry
from portal.consequences.engine import AccountDay
from portal.consequences.services import notice_for, notices_for
from portal.core.inputs import arg_page
from portal.notices.letters import letter_for
from portal.notices.pdf import render_pdf

bp = Blueprint("accounts", __name__)
NAV = (
    cardholder_entry("accounts.dashboard", _l("My accounts"), order=10),
)
FILTER_ARGS = ("kind", "date_from", "date_to")
bp.add_app_template_global(views.percent, "percent")


@bp.get("/home")
@read_only
@cardholder_required
def dashboard():
    accounts = queries.accounts_of_current_user()
    section = get_template_attribute("accounts/_summary.html", "account_summary")
    sections = views.summary_sections(accounts, queries.cardholder_today(), section)
    return render_template("accounts/dashboard.html", sections=sections)


@bp.get("/accounts/<int:account_id>")
@read_only
@cardholder_required
def overview(account_id):
    account = queries.owned_account_or_404(account_id)
    summary = views.account_summaries([account], queries.cardholder_today())[0]
    return render_template("accounts/overview.html", summary=summary, account=account)


@bp.get("/accounts/<int:account_id>/history")
@read_only
@cardholder_required
def history(account_id):
    account = queries.owned_account_or_404(account_id)
    form = HistoryFilterForm(formdata=request.args)
    submitted = any(request.args.get(name) for name in FILTER_ARGS)
    if submitted and not form.validate():
        # The filter could not be applied: say so, and show no list that looks filtered.
        return render_template("accounts/history.html", account=account, form=form,
                               result=None, filters=None, invalid=True)
    filters = form.to_filter() if submitted else HistoryFilter()
    page = arg_page()
    result = queries.history_page(account, filters, page)
    page_args = {k: request.args[k] for k in FILTER_ARGS if request.args.get(k)}
    return render_template("accounts/history.html", account=account, form=form,
                           result=result, filters=filters, invalid=False,
                           line_label=line_label, page_args=page_args)


@bp.get("/accounts/<int:account_id>/timeline")
@read_only
@cardholder_required
def timeline(account_id):
    account = queries.owned_account_or_404(account_id)
    locale = str(get_locale())

    def render(summary):
        return Markup(render_template(
            "accounts/_timeline_body.html", account=account, summary=summary,
            explain=lambda item: views.explanation_for(item, locale),
            shown_from=_steps_shown_from(account)))
    body = views.timeline_body(account, queries.cardholder_today(), render)
    return render_template("accounts/timeline.html", body=body)


def _steps_shown_from(account):
    """The statement date of an account fed in already late, else None: the issuer's own system
    took the steps due before that date, and the timeline (which records only later ones, see
    `AccountDay.baseline_dpd`) does not show them."""
    baseline = AccountDay(account.id, account.currency, account.minimum_due,
                          account.oldest_unpaid_due_date, account.feed_as_of).baseline_dpd
    return account.feed_as_of if baseline > 0 else None


@bp.get("/accounts/<int:account_id>/notices")
@cardholder_required
def notices(account_id):
    account = queries.owned_account_or_404(account_id)
    return render_template("accounts/notices.html", account=account,
                           notices=notices_for(account, queries.cardholder_today()))


@bp.get("/accounts/<int:account_id>/notices/<int:notice_id>")
@cardholder_required
def notice(account_id, notice_id):
    account = queries.owned_account_or_404(account_id)
    found = _notice_or_404(account, notice_id)
    return render_template("accounts/notice.html", account=account, notice=found,
                           letter=letter_for(found, account, current_user.full_name))


@bp.get("/accounts/<int:account_id>/notices/<int:notice_id>.pdf")
@cardholder_required
def notice_pdf(account_id, notice_id):
    account = queries.owned_account_or_404(account_id)
    found = _notice_or_404(account, notice_id)
    letter = letter_for(found, account, current_user.full_name)
    response = Response(render_pdf(letter), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{letter.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _notice_or_404(account, notice_id):
    found = notice_for(account, notice_id)
    if found is None:
        abort(404)
    return found
