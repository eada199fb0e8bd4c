"""The plans blueprints: cardholder pages and staff pages (routes attach themselves)."""
from flask import Blueprint

bp = Blueprint("plans", __name__)
staff_bp = Blueprint("plan_review", __name__, url_prefix="/staff")


def blueprints():
    from portal.plans import hardship_routes, review_routes, risk_routes, routes  # noqa: F401

    return bp, staff_bp
