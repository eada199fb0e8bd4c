"""The plans blueprints: cardholder pages and staff pages (routes attach themselves)."""
from flask import Blueprint

bp = Blueprint("plans", __name__)
staff_bp = Blueprint("plan_review", __name__, url_prefix="/staff")


def blueprints():
    from portal.plans import (  # noqa: F401
        hardship_routes, proposal_routes, review_routes, risk_routes, routes,
    )

    return bp, staff_bp
