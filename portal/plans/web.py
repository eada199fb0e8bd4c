"""The plans pages for the app factory: importing the route modules attaches their views."""
from portal.plans import (  # noqa: F401  (views on bp and staff_bp)
    hardship_routes, proposal_routes, review_routes, risk_routes, routes, servicing_routes,
)
from portal.plans.blueprint import bp, staff_bp


def blueprints() -> tuple:
    return bp, staff_bp
