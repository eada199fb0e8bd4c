"""The dispute blueprints, registered by the app factory with one call."""


def register(app) -> None:
    from portal.disputes.admin_routes import bp as admin_bp
    from portal.disputes.routes import bp as cardholder_bp
    from portal.disputes.staff_routes import bp as staff_bp

    for blueprint in (cardholder_bp, staff_bp, admin_bp):
        app.register_blueprint(blueprint)
