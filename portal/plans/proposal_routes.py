"""Cardholder pages for choosing a plan: the offers, proposing one's own terms, and the
consent page that records an accepted plan (active at once, or sent for review)."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy.exc import IntegrityError

from portal.accounts.queries import owned_account_or_404
from portal.auth.session import cardholder_required
from portal.balances.services import balance_of, today_for
from portal.core.forms import parse_money_fields
from portal.core.inputs import parse_id, parse_whole
from portal.domain.dates import local_date
from portal.domain.money import MAX_MINOR
from portal.extensions import db
from portal.links.services import record_outcome
from portal.plans import agreement, lifecycle, services
from portal.plans.blueprint import bp
from portal.plans.choices import offers_for, saving
from portal.plans.forms import ConsentForm, ProposeForm
from portal.plans.messages import ERRORS, reason_text, review_reason_text
from portal.plans.models import HardshipStatement, PlanStatus
from portal.plans.offers import PlanSpec, check_eligibility, count_for_budget
from portal.timeutil import as_aware, utcnow


def cardholder_spec(policy, kind, count, frequency, first_date, down_payment) -> PlanSpec:
    """A cardholder chooses the shape; the concessions always come from the envelope."""
    env = policy.envelope
    return PlanSpec(kind=kind, count=count, frequency=frequency, first_date=first_date,
                    down_payment=down_payment, fees_waived=env.fees_waived,
                    discount_percent=env.settlement_discount_percent,
                    interest=env.interest, interest_rate_percent=env.interest_rate_percent)


def spec_from(values, policy) -> PlanSpec:
    """A spec from query or hidden-form values; 400 for anything malformed."""
    try:
        kind = values.get("kind", "")
        frequency = values.get("frequency", "monthly")
        if kind not in ("instalment", "settlement", "deferral") or \
                frequency not in ("weekly", "fortnightly", "monthly"):
            raise ValueError(kind)
        count = parse_whole(values.get("count", "1"), 1, 600)
        down_payment = parse_whole(values.get("down_payment") or "0", 0, MAX_MINOR)
        first = date.fromisoformat(values.get("first_date", ""))
    except (TypeError, ValueError):
        abort(400)
    return cardholder_spec(policy, kind, count, frequency, first, down_payment)


def spec_args(spec: PlanSpec, source: str, statement: int | None = None) -> dict:
    args = {"kind": spec.kind, "count": spec.count, "frequency": spec.frequency,
            "first_date": spec.first_date.isoformat(), "down_payment": spec.down_payment,
            "source": source}
    if statement:
        args["statement"] = statement
    return args


@bp.get("/accounts/<int:account_id>/plans/offers")
@cardholder_required
def offers(account_id):
    account = owned_account_or_404(account_id)
    active = services.active_plan(account)
    if active is not None:
        return redirect(url_for("plans.show", account_id=account.id, plan_id=active.id))
    today = today_for(account)
    balance = balance_of(account, today)  # read once; policy, offers and page share it
    policy = services.offer_policy(account, today, balance=balance)  # an experiment's arm
    history = services.history_for(account, today)

    blocked = check_eligibility(history, policy.limits, today)
    offer_list = [] if blocked else offers_for(services.owed_for(account, today, balance), policy,
                                               today, history)
    # No offer is agreed at once while the account is outside the auto-approval envelope
    # (e.g. a plan agreed and then cancelled still counts towards its plans per 12 months).
    review = [] if blocked or offer_list else check_eligibility(history, policy.envelope, today)
    return render_template("plans/offers.html", account=account, offers=offer_list,
                           blocked=[reason_text(r, account.currency) for r in blocked],
                           review=[review_reason_text(r, account.currency) for r in review],
                           balance=balance, spec_args=spec_args,
                           statement_day=_statement_day(account))


def _statement_day(account) -> date | None:
    """The cardholder's day of their latest statement not yet used by a plan, if any."""
    statement = services.latest_statement(account)
    if statement is None:
        return None
    return local_date(as_aware(statement.created_at), account.cardholder.timezone)


@bp.route("/accounts/<int:account_id>/plans/propose", methods=["GET", "POST"])
@cardholder_required
def propose(account_id):
    account = owned_account_or_404(account_id)
    today = today_for(account)
    balance = balance_of(account, today)  # read once for the policy, the budget and the decision
    policy = services.plan_policy(account, today, balance=balance)
    form = ProposeForm()
    refused = None
    if form.validate_on_submit() and parse_money_fields(form, account.currency,
                                                        ("amount", "down_payment")):
        down = form.down_payment.minor or 0
        count = form.count.data
        owed = services.owed_for(account, today, balance)
        if form.mode.data == "amount":
            if not form.amount.minor:
                form.amount.errors = [_("Enter an amount greater than zero.")]
                return render_template("plans/propose.html", account=account, form=form), 422
            fees = owed.fees if policy.envelope.fees_waived else 0
            count = count_for_budget(max(owed.total - fees, 1), form.amount.minor,
                                     min(down, max(owed.total - fees - 1, 0)))
        spec = cardholder_spec(policy, "instalment", count, form.frequency.data,
                               form.first_date.data, down)
        decision, _policy = lifecycle.evaluate(account, spec, today, balance=balance)
        if decision.outcome != "refused":
            return redirect(url_for("plans.confirm", account_id=account.id,
                                    **spec_args(spec, "proposal")))
        refused = decision
    status = 422 if request.method == "POST" else 200
    return render_template("plans/propose.html", account=account, form=form, refused=refused,
                           reasons=[reason_text(r, account.currency)
                                    for r in (refused.reasons if refused else [])],
                           spec_args=spec_args), status


def _consent_page(account, today, balance, spec, source, statement, form, status=200):
    decision, policy = lifecycle.evaluate(account, spec, today, balance=balance)
    if decision.outcome == "refused":
        flash(" ".join(reason_text(r, account.currency) for r in decision.reasons), "error")
        return redirect(url_for("plans.propose", account_id=account.id))
    locale = str(get_locale())
    ctx = lifecycle.context_for(account, policy.version, policy.limits.grace_days)
    lines = agreement.terms_lines(decision.terms, ctx, locale)
    values = spec_args(spec, source, statement)
    for key, value in values.items():
        getattr(form, key).data = value
    form.terms_hash.data = agreement.terms_hash(decision.terms, ctx, locale)
    return render_template("plans/confirm.html", account=account, decision=decision,
                           terms=decision.terms, lines=lines, form=form,
                           review=list(dict.fromkeys(review_reason_text(r, account.currency)
                                                     for r in decision.review_reasons)),
                           saving=saving(decision.terms, policy, today)), status


@bp.route("/accounts/<int:account_id>/plans/confirm", methods=["GET", "POST"])
@cardholder_required
def confirm(account_id):
    account = owned_account_or_404(account_id)
    today = today_for(account)
    balance = balance_of(account, today)  # read once for the page and the decision
    policy = services.plan_policy(account, today, balance=balance)
    values = request.form if request.method == "POST" else request.args
    spec = spec_from(values, policy)
    source = values.get("source") if values.get("source") in ("offer", "proposal", "hardship") \
        else "proposal"
    statement = _statement(account, values.get("statement"))
    form = ConsentForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _consent_page(account, today, balance, spec, source,
                             statement.id if statement else None, form,
                             200 if request.method == "GET" else 422)
    consent = lifecycle.Consent(form.terms_hash.data, str(get_locale()), request.remote_addr,
                                request.user_agent.string, utcnow())
    try:
        plan = lifecycle.submit(account, spec, consent, source=source, today=today,
                                statement=statement)
        record_outcome("plan", plan.id, account.id)  # the message that led here, if any
        db.session.commit()
    except lifecycle.PlanError as exc:
        db.session.rollback()
        if exc.code == "refused":
            flash(" ".join(reason_text(r, account.currency) for r in exc.decision.reasons), "error")
            return redirect(url_for("plans.propose", account_id=account.id))
        flash(str(ERRORS[exc.code]), "error")
        if exc.code == "terms_changed":  # the balance may have moved: a payment posted
            return _consent_page(account, today, balance_of(account, today), spec, source,
                                 statement.id if statement else None,
                                 ConsentForm(formdata=None), 409)
        return redirect(url_for("plans.account_plans", account_id=account.id))
    except IntegrityError:  # another tab made a plan active first
        db.session.rollback()
        flash(str(ERRORS["already_active"]), "error")
        return redirect(url_for("plans.account_plans", account_id=account.id))
    if plan.status == PlanStatus.ACTIVE:
        flash(_("Your plan is agreed. Thank you."), "success")
    else:
        flash(_("Thank you. We will review your proposal and reply in the portal."), "success")
    return redirect(url_for("plans.show", account_id=account.id, plan_id=plan.id))


def _statement(account, raw) -> HardshipStatement | None:
    if not raw:
        return None
    statement_id = parse_id(raw)
    statement = db.session.get(HardshipStatement, statement_id) if statement_id else None
    if statement is None or statement.account_id != account.id or statement.plan_id:
        abort(404)
    return statement
