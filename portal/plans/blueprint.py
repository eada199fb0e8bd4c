"""The plans blueprints: cardholder pages and staff pages. The route modules attach their
views to them; `portal.plans.web` imports them all for the app factory."""
from flask import Blueprint

bp = Blueprint("plans", __name__)
staff_bp = Blueprint("plan_review", __name__, url_prefix="/staff")
