"""Risk defines and stops experiments; risk and collections managers read their reports."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_percent, gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.auth.session import staff_required
from portal.core.nav import staff_entry
from portal.core.today import staff_today
from portal.experiments import report as reports, services
from portal.experiments.forms import (ERRORS, KIND_LABELS, OUTCOME_LABELS, TEMPLATE_LABELS,
                                      ExperimentForm)
from portal.experiments.models import Experiment
from portal.experiments.rules import running
from portal.extensions import db
from portal.core.inputs import PortalForm
from portal.policy.services import all_profiles
from portal.staff.models import Role

bp = Blueprint("experiments", __name__, url_prefix="/staff/risk/experiments")
READERS = (Role.RISK, Role.COLLECTIONS_MANAGER)
NAV = (staff_entry("experiments.index", _l("Experiments"), READERS, order=61),)


def show_share(value) -> str:
    """A proportion or a difference as a percentage with one decimal, in the reader's
    locale; a dash when there is nothing to estimate."""
    return "–" if value is None else format_percent(value, format="#,##0.0%")


@bp.get("")
@staff_required(*READERS)
def index():
    today = staff_today()
    rows = [(e, running(e.starts_on, e.ends_on, e.stopped_on, today))
            for e in services.experiments()]
    return render_template("experiments/index.html", rows=rows, kinds=KIND_LABELS,
                           may_define=current_user.has_role(Role.RISK), today=today)


@bp.route("/new", methods=["GET", "POST"])
@staff_required(Role.RISK)
def new():
    form = ExperimentForm()
    form.profile.choices = [(p, p) for p in all_profiles()]
    today = staff_today()
    if not form.is_submitted():
        form.starts_on.data = today
    status = 200
    if form.validate_on_submit():
        try:
            experiment = services.create(form.definition(), current_user, today)
            db.session.commit()
        except services.ExperimentError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            flash(_("The experiment is created and its accounts are assigned."), "success")
            return redirect(url_for(".show", experiment_id=experiment.id))
    if form.is_submitted():
        status = 422
    return render_template("experiments/new.html", form=form), status


def _experiment(experiment_id) -> Experiment:
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None:
        abort(404)
    return experiment


@bp.get("/<int:experiment_id>")
@staff_required(*READERS)
def show(experiment_id):
    experiment = _experiment(experiment_id)
    today = staff_today()
    result = reports.report(experiment, today)
    return render_template(
        "experiments/show.html", e=experiment, r=result, kinds=KIND_LABELS,
        templates=TEMPLATE_LABELS, outcomes=OUTCOME_LABELS, share=show_share,
        live=running(experiment.starts_on, experiment.ends_on, experiment.stopped_on, today),
        may_stop=current_user.has_role(Role.RISK), stop_form=PortalForm(),
        level=format_percent(0.95),
        stoppable=experiment.stopped_on is None and today <= experiment.ends_on)


@bp.post("/<int:experiment_id>/stop")
@staff_required(Role.RISK)
def stop(experiment_id):
    experiment = _experiment(experiment_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    try:
        services.stop(experiment, current_user, staff_today())
        db.session.commit()
    except services.ExperimentError as exc:
        db.session.rollback()
        flash(str(ERRORS[exc.errors[0][1]]), "error")
    else:
        flash(_("The experiment is stopped: its arms no longer apply."), "success")
    return redirect(url_for(".show", experiment_id=experiment.id))
