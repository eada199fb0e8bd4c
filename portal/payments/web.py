"""The payment pages for the app factory: importing the route modules attaches their views."""
from portal.payments import autopay_routes, routes, staff_routes  # noqa: F401  (views on bp)
from portal.payments.blueprint import bp


def blueprints() -> tuple:
    return (bp,)
