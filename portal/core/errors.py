"""Error pages that say what happened in the reader's language."""
from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from portal.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def register(app):
    def page(status):
        def handler(error):
            if status >= 500:
                db.session.rollback()
            if _wants_json():
                return jsonify(error=status), status
            return render_template("errors/error.html", status=status), status
        return handler

    for status in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(status, page(status))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if _wants_json():
            return jsonify(error="csrf"), 400
        return render_template("errors/error.html", status=400, csrf=True), 400
