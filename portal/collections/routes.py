"""Collections pages: assign accounts (managers), my accounts and the contact log
(collectors, managers), KPI reports (managers)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_percent, gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from portal.accounts.models import Account
from portal.accounts.labels import entry_label
from portal.auth.session import staff_required
from portal.balances.services import balance_of, today_for
from portal.collections import figures, promises, report_charts, reports, services, worklists
from portal.collections.forms import (BUCKET_LABELS, CHANNELS, DIRECTIONS, OUTCOMES,
                                      PROMISE_STATUS, AssignFilterForm, AssignForm, ContactForm,
                                      FiguresForm, ReportForm)
from portal.collections.models import ContactChannel, ContactDirection, ContactOutcome
from portal.collections.rules import percent
from portal.core.database import read_only
from portal.core.filters import formatter
from portal.core.fragments import kept_rows
from portal.core.nav import staff_entry
from portal.core.urls import id_link
from portal.contact.services import contact_now
from portal.core.today import STAFF_ZONE, from_staff_wall_clock, staff_today, staff_wall_clock
from portal.disputes import labels as dispute_labels
from portal.extensions import db
from portal.i18n import PageLabels
from portal.core.forms import parse_money_fields
from portal.core.inputs import arg_cursors, arg_page
from portal.plans.limits_form import TYPE_LABELS
from portal.plans.messages import STATUS as PLAN_STATUS
from portal.policy.services import all_profiles, policy_for
from portal.staff.account_context import account_context
from portal.staff.models import Role
from portal.timeutil import utcnow

bp = Blueprint("collections", __name__, url_prefix="/staff/collections")
MANAGER = Role.COLLECTIONS_MANAGER
WORKERS = (Role.COLLECTOR, Role.COLLECTIONS_MANAGER)
NAV = (
    staff_entry("collections.my_accounts", _l("Assigned accounts"), [Role.COLLECTOR, MANAGER], order=22),
    staff_entry("collections.assign", _l("Assign accounts"), [MANAGER], order=23),
    staff_entry("collections.reports", _l("Collections reports"), [MANAGER], order=24),
    staff_entry("collections.figures", _l("Collections figures"), [MANAGER, Role.RISK],
                order=25),
)
SETUP_LABELS = {"self_service": _l("Self-service (agreed on the spot)"),
                "counter_offer": _l("Counter-offer accepted"),
                "collector": _l("Approved by staff")}

ERRORS = {
    "not_a_collector": _l("Choose an active collector."),
    "unknown_account": _l("One of the selected accounts does not exist."),
    "nothing_selected": _l("Select at least one account."),
    "future": _l("The contact cannot be in the future."),
    "promise_before_contact": _l("The promised date cannot be before the day of the contact."),
    "promise_amount": _l("Enter an amount greater than zero."),
}


def show_percent(rate) -> str | None:
    """A rate as a whole percentage in the reader's locale (None stays None)."""
    whole = percent(rate)
    return None if whole is None else format_percent(Decimal(whole) / 100)


ASSIGN_FILTERS = ("profile", "bucket", "collector")  # what the page links carry on


def _assign_filter(form) -> worklists.DelinquentFilter:
    valid = form.validate()
    return worklists.DelinquentFilter(
        profile=form.profile.data if valid else None, bucket=form.bucket.data if valid else None,
        collector=form.collector.data if valid else None,
        page=arg_page())


@bp.route("/assign", methods=["GET", "POST"])
@staff_required(MANAGER)
def assign():
    collectors = services.collectors()
    filters = AssignFilterForm(request.args)
    filters.set_choices(all_profiles(), collectors)
    form = AssignForm()
    form.set_choices(collectors)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            target = None if form.to.data == "none" else int(form.to.data)
            try:
                changed = services.assign(form.account_ids.data, target, current_user)
                db.session.commit()
            except services.CollectionsError as exc:
                db.session.rollback()
                form.form_errors.append(str(ERRORS[exc.code]))
            else:
                flash(_("Assignments changed: %(count)s.", count=changed), "success")
                return redirect(url_for(".assign", **request.args))
        status = 422
    flt = _assign_filter(filters)
    rows, result = worklists.delinquent(flt, staff_today(), **arg_cursors())
    names = {c.id: c.name for c in services.collectors(active_only=False)}
    return render_template("collections/assign.html", filters=filters, form=form, rows=rows,
                           result=result, names=names,
                           page_args={k: request.args[k] for k in ASSIGN_FILTERS
                                      if request.args.get(k)},
                           selected=set(form.account_ids.data or [])), status


@bp.get("/my-accounts")
@read_only
@staff_required(*WORKERS)
def my_accounts():
    team = current_user.has_role(MANAGER)
    found = worklists.assigned_accounts(None if team else current_user.id, staff_today(),
                                        arg_page(), **arg_cursors())
    names = {c.id: c.name for c in services.collectors(active_only=False)} if team else {}
    return render_template("collections/my_accounts.html",
                           rows=_worklist_rows(found.rows, names, team), result=found, team=team)


def _worklist_rows(rows, names, team: bool) -> list[Markup]:
    """Each row's HTML, kept per process under what it shows (`fragments.kept_rows`): the
    account's number and currency, the collector's name on the team's list, and the row's
    figures and facts."""

    def key(row):
        account, balance = row.account, row.balance
        return (team, account.id, account.account_number, account.currency,
                names.get(row.collector_id, "") if team else None, balance.overdue,
                balance.total, balance.days_past_due, row.broken_promises, row.plan_status,
                row.next_due, row.next_amount, row.last_contact)

    return kept_rows("collections/_worklist_row.html", rows, key,
                     lambda missing: _worklist_cells(missing, names, team))


def _worklist_cells(rows, names, team: bool) -> list[dict]:
    """Each row's text, worked out here with the request's formatter, the link built once and
    the labels and the "amount by day" sentence translated once a page, so the row's macro
    only places text."""
    fmt, link = formatter(), id_link("collections.account", "account_id")
    plan_status, no_plan, none_yet = PageLabels(PLAN_STATUS), _("No plan"), _("None yet")
    amount_by = _("%(amount)s by %(day)s")
    shown = []
    for row in rows:
        account, balance = row.account, row.balance
        shown.append({
            "team": team, "link": link(account.id), "number": account.account_number,
            "collector": names.get(row.collector_id, ""),
            "overdue": fmt.money(balance.overdue, account.currency),
            "total": fmt.money(balance.total, account.currency),
            "days_late": balance.days_past_due, "broken": row.broken_promises,
            "plan": plan_status.get(row.plan_status, no_plan) if row.plan_status else no_plan,
            "next": amount_by % {"amount": fmt.money(row.next_amount, account.currency),
                                 "day": fmt.day(row.next_due)} if row.next_due else "",
            "last": fmt.moment(row.last_contact) if row.last_contact else none_yet})
    return shown


def _workable_account(account_id) -> Account:
    account = db.session.get(Account, account_id)
    # Someone else's account is as absent as a missing one: ids reveal nothing.
    if account is None or not services.may_work(current_user, account.id):
        abort(404)
    return account


@bp.get("/accounts/<int:account_id>")
@staff_required(*WORKERS)
def account(account_id, form=None, status=200):
    """Everything a call needs: who and how to reach them, whether contact is allowed now, the
    plan, promises, contact history, and the staff account context (balance, ledger,
    payments, letters, disputes); the contact form starts at now."""
    account = _workable_account(account_id)
    now = utcnow()
    form = form or ContactForm(formdata=None, data={"occurred_at": staff_wall_clock(now)})
    today = today_for(account)
    contacts = services.account_contacts(account, today)
    return render_template(
        "collections/account.html", account=account, ctx=account_context(account),
        reach=contact_now(account.cardholder, account, now), now=now, contacts=contacts,
        promises=promises.account_promises(account, today), history=services.assignment_history(account.id),
        form=form, channels=CHANNELS, directions=DIRECTIONS, outcomes=OUTCOMES,
        promise_status=PROMISE_STATUS, staff_zone=STAFF_ZONE, labels=dispute_labels,
        entry_kind=entry_label), status


@bp.post("/accounts/<int:account_id>/contacts")
@staff_required(*WORKERS)
def log_contact(account_id):
    account = _workable_account(account_id)
    form = ContactForm()
    valid = form.validate_on_submit()
    if not (parse_money_fields(form, account.currency, ("promise_amount",)) and valid):
        return account_page_again(account_id, form)
    occurred = from_staff_wall_clock(form.occurred_at.data)
    promise = None
    if form.promise_amount.minor is not None:
        promise = services.Promise(form.promise_amount.minor, form.promise_date.data)
    try:
        services.log_contact(account, current_user, channel=ContactChannel(form.channel.data),
                             direction=ContactDirection(form.direction.data),
                             outcome=ContactOutcome(form.outcome.data), note=form.note.data,
                             occurred_at=occurred, promise=promise)
        db.session.commit()
    except services.CollectionsError as exc:
        db.session.rollback()
        form.form_errors.append(str(ERRORS.get(exc.code, exc.code)))
        return account_page_again(account_id, form)
    flash(_("The contact is logged."), "success")
    return redirect(url_for(".account", account_id=account_id))


def account_page_again(account_id, form):
    return account(account_id, form=form, status=422)


def _period(form, today) -> reports.Period:
    """The period the form asks for; a date it refused (or left blank) is the default."""
    start = form.date_from.data if form.date_from.data and not form.date_from.errors \
        else today.replace(day=1)
    end = form.date_to.data if form.date_to.data and not form.date_to.errors else today
    return reports.Period(start, end) if start <= end else reports.Period(today.replace(day=1), today)


@bp.get("/reports", endpoint="reports")
@staff_required(MANAGER)
def reports_page():
    form = ReportForm(request.args)
    form.validate()
    now = utcnow()
    period = _period(form, staff_today(now))
    collectors, team = reports.collector_report(period, now)
    plans = reports.plans_report(period)
    if request.args.get("format") == "csv":
        return _csv(period, collectors, team)
    charts = [report_charts.time_chart(period, report_charts.plans_over_time(period)),
              *report_charts.collector_charts(collectors)]
    return render_template("collections/reports.html", form=form, period=period,
                           collectors=collectors, team=team, plans=plans, charts=charts,
                           plan_totals=reports.overall(plans["status"]), percent=show_percent,
                           plan_status=PLAN_STATUS, kind_labels=TYPE_LABELS, csv_args={**request.args, "format": "csv"})


@bp.get("/figures", endpoint="figures")
@staff_required(MANAGER, Role.RISK)
def figures_page():
    """Roll, cure, contact, plan-break, promise and no-contact payment figures for a period
    and a policy profile, each with its counts (definitions in docs/features.md)."""
    profiles = all_profiles()
    form = FiguresForm(request.args)
    form.profile.choices = [(p, p) for p in profiles]
    form.validate()
    now = utcnow()
    period = _period(form, staff_today(now))
    profile = form.profile.data if form.profile.data in profiles else profiles[0]
    form.profile.data = profile
    order = [s.code for s in policy_for(profile, period.end).stages]
    found = figures.figures(profile, order, period, now)
    return render_template("collections/figures.html", form=form, period=period, f=found,
                           profile=profile, percent=show_percent, setup_labels=SETUP_LABELS,
                           no_contact_days=figures.NO_CONTACT_DAYS)


CSV_COLUMNS = ("accounts_held", "contacts", "promises_made", "promises_kept", "promises_broken",
               "approved", "countered", "rejected", "plans_agreed", "plans_kept", "plans_behind",
               "plans_broken", "plans_cancelled", "complaints")


def _cell(text: str) -> str:
    # A spreadsheet would run a name starting with = + - @ as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv(period, collectors, team) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    currencies = sorted({c for row in collectors + [team] for c in row.collected})
    writer.writerow(["collector", *CSV_COLUMNS, "plans_kept_percent",
                     *[f"collected_{c}_minor" for c in currencies]])
    for row in collectors + [team]:
        rate = percent(row.plans_kept_rate)
        writer.writerow([_cell(row.name or "team"), *[getattr(row, c) for c in CSV_COLUMNS],
                         "" if rate is None else rate,
                         *[row.collected.get(c, 0) for c in currencies]])
    name = f"collections-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

