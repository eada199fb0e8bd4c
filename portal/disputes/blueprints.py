"""The dispute blueprints, registered by the app factory with one call."""

from portal.disputes.admin_routes import bp as admin_bp
from portal.disputes.routes import bp as cardholder_bp
from portal.disputes.staff_routes import bp as staff_bp


def register(app) -> None:
    for blueprint in (cardholder_bp, staff_bp, admin_bp):
        app.register_blueprint(blueprint)
