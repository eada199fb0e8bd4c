"""The repayment portal: `create_app` builds a configured Flask application.

Imports of portal modules in this file are lazy, inside the functions that need them:
`import portal.<anything>` runs this file first, so importing the features here would load
the whole web app (every blueprint) into every job worker and every pure module."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask

from portal import timeutil
from portal.config import DEFAULT_SECRET_KEY, DEV_AUDIT_KEYS, config_class

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` (a mapping) overrides what the environment says."""
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH", os.path.join(ROOT, "instance")),
    )
    # Lazy import: see the module docstring. Before anything builds `app.jinja_env`.
    from portal.core.templating import PortalEnvironment

    app.jinja_environment = PortalEnvironment
    app.config.from_object(config_class())
    if config:
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = config_class().database_url(app.instance_path)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", os.path.join(ROOT, "translations"))
    os.makedirs(app.instance_path, exist_ok=True)
    _refuse_default_secret(app)
    _refuse_per_process_rate_limits(app)
    _refuse_sandbox_payments(app)
    _refuse_unkeyed_audit(app)
    _refuse_file_outbox(app)
    _refuse_unscheduled_jobs(app)
    _refuse_relative_job_links(app)
    _refuse_unusable_document_store(app)
    _set_clock(app)
    if app.config["TRUST_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUST_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_input_rules(app)
    wire_registries()
    register_blueprints(app)
    _check_rate_limits_in_views(app)
    register_cli(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_fast_paths(app)
    return app


def _refuse_default_secret(app: Flask) -> None:
    if os.environ.get("PORTAL_ENV") == "production" and app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("SECRET_KEY must be set in production (PORTAL_ENV=production)")


def _refuse_unkeyed_audit(app: Flask) -> None:
    # Without a key of its own, anyone with the database could rewrite the audit log and its
    # hashes. A malformed AUDIT_KEYS is refused everywhere. A lazy import, as this file's
    # docstring says.
    from portal.audit.services import parse_keys

    keys = parse_keys(app.config.get("AUDIT_KEYS"))
    if os.environ.get("PORTAL_ENV") == "production" and (
            not keys or app.config["AUDIT_KEYS"] == DEV_AUDIT_KEYS):
        raise RuntimeError("AUDIT_KEYS must be set in production (PORTAL_ENV=production): the "
                           "audit log is signed with it (docs/audit.md)")


def _refuse_per_process_rate_limits(app: Flask) -> None:
    # In-memory counters are per process: with several workers, sign-in limits multiply.
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if os.environ.get("PORTAL_ENV") == "production" and storage.startswith("memory://"):
        raise RuntimeError("REDIS_URL (or RATELIMIT_STORAGE_URI) must be set in production "
                           "(PORTAL_ENV=production): in-memory rate limits are per process")


def _refuse_sandbox_payments(app: Flask) -> None:
    # The sandbox takes test cards and posts them as payments: never on real accounts.
    if os.environ.get("PORTAL_ENV") == "production" and app.config.get("PAYMENT_PROVIDER") != "stripe":
        raise RuntimeError("STRIPE_SECRET_KEY must be set in production (PORTAL_ENV=production): "
                           "the sandbox payment provider would post test-card payments")


def _refuse_file_outbox(app: Flask) -> None:
    # The file transports only write messages to disk: no cardholder would ever receive them.
    if os.environ.get("PORTAL_ENV") != "production":
        return
    if app.config.get("OUTBOX_TRANSPORT") != "smtp":
        raise RuntimeError("OUTBOX_TRANSPORT=smtp (with SMTP_HOST) must be set in production "
                           "(PORTAL_ENV=production): the file outbox delivers no email")
    if app.config.get("SMS_TRANSPORT") != "http" or not app.config.get("SMS_HTTP_URL"):
        raise RuntimeError("SMS_TRANSPORT=http (with SMS_HTTP_URL) must be set in production "
                           "(PORTAL_ENV=production): the file outbox delivers no text message")


def _refuse_unscheduled_jobs(app: Flask) -> None:
    # Without the job engine's broker nothing runs the nightly run, autopay or delivery.
    if os.environ.get("PORTAL_ENV") == "production" and not app.config.get("JOBS_BROKER_URL"):
        raise RuntimeError("JOBS_BROKER_URL must be set in production (PORTAL_ENV=production): "
                           "the scheduled jobs run on the job engine (docs/operations.md)")


def _refuse_relative_job_links(app: Flask) -> None:
    # Messages queued outside a request (the nightly run's letters, autopay, receipts of
    # payments the webhook inbox's worker posts) take their links from PORTAL_BASE_URL: without
    # it a cardholder would be sent a path with no host.
    base = urlsplit(app.config.get("PORTAL_BASE_URL") or "")
    if os.environ.get("PORTAL_ENV") == "production" and not (
            base.scheme in ("https", "http") and base.netloc):
        raise RuntimeError("PORTAL_BASE_URL must be set in production (PORTAL_ENV=production) "
                           "to the portal's address, e.g. https://pay.example.com: links in "
                           "messages sent by jobs and the webhook inbox's worker are built "
                           "from it (docs/operations.md)")


def _refuse_unusable_document_store(app: Flask) -> None:
    # Documents on one machine's disk cannot be served by another; a bad S3 setting would only
    # show at the first upload. A lazy import, as this file's docstring says.
    from portal.core.storage import config_problem

    problem = config_problem(app.config, os.environ.get("PORTAL_ENV") == "production")
    if problem:
        raise RuntimeError(problem)


def _set_clock(app: Flask) -> None:
    # A moved clock in production would date real payments and charges wrongly.
    moment = app.config.get("PORTAL_NOW")
    if os.environ.get("PORTAL_ENV") == "production" and moment:
        raise RuntimeError("PORTAL_NOW must not be set in production (PORTAL_ENV=production): "
                           "the portal's clock is the system clock there")
    try:
        timeutil.set_now(moment)
    except (TypeError, ValueError) as exc:
        raise RuntimeError(f"PORTAL_NOW is not an ISO 8601 moment: {moment!r}") from exc


def register_extensions(app: Flask) -> None:
    # Lazy imports: see the module docstring.
    from portal import models  # noqa: F401  (every table known to metadata and Alembic)
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.i18n import install_template_gettext, select_locale, select_timezone

    db.init_app(app)
    from portal.core import database
    from portal.core.session_cookie import KeptSessionInterface

    app.session_interface = KeptSessionInterface()  # each cookie value verified once a process

    database.init_app(app)  # pooled connections checked without a round trip; read-only views
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from portal.auth import session as auth_session

    auth_session.init_login_manager(login_manager)
    from portal.tasks import engine

    engine.init_app(app)  # the job engine's Celery app (sends nothing until asked)


def register_input_rules(app: Flask) -> None:
    """Before any route exists: ids in URLs and query strings follow `portal.core.inputs`."""
    # Lazy imports: see the module docstring.
    from portal.core.inputs import IdConverter, refuse_control_characters

    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_control_characters)


def wire_registries() -> None:
    # Lazy imports: see the module docstring.
    from portal.wiring import wire

    wire()  # pause providers, nav entries, section checks, event listeners: see portal.wiring


def register_blueprints(app: Flask) -> None:
    # Lazy imports: see the module docstring.
    from portal.account_pages.routes import bp as accounts_bp
    from portal.auth.routes import bp as auth_bp
    from portal.care.routes import bp as care_bp
    from portal.collections.promise_routes import bp as promises_bp
    from portal.collections.routes import bp as collections_bp
    from portal.contact.routes import bp as contact_bp
    from portal.core.routes import bp as core_bp
    from portal.disputes.blueprints import register as register_disputes
    from portal.experiments.routes import bp as experiments_bp
    from portal.jobs.routes import bp as jobs_bp
    from portal.legal.routes import bp as legal_bp
    from portal.links.routes import bp as links_bp
    from portal.payments.web import blueprints as payment_blueprints
    from portal.plans.web import blueprints as plan_blueprints
    from portal.policy.routes import bp as policy_bp
    from portal.staff.routes import bp as staff_bp
    from portal.staff.admin_routes import bp as staff_admin_bp

    for blueprint in (core_bp, auth_bp, staff_bp, staff_admin_bp, accounts_bp,
                      *payment_blueprints(), policy_bp, *plan_blueprints(), contact_bp,
                      collections_bp, promises_bp, experiments_bp, legal_bp, jobs_bp, care_bp,
                      links_bp):
        app.register_blueprint(blueprint)
    register_disputes(app)


def _check_rate_limits_in_views(app: Flask) -> None:
    # Lazy imports: see the module docstring. Limits live on the views that declare them
    # (sign-in, codes, staff POSTs): the limiter's per-request hook goes when it checks nothing.
    from portal.core.security import drop_idle_limit_check
    from portal.extensions import limiter

    drop_idle_limit_check(app, limiter)


def register_cli(app: Flask) -> None:
    # Lazy imports: see the module docstring.
    from portal.cli import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    # Lazy imports: see the module docstring.
    from portal.auth.session import enforce_idle_timeout
    from portal.core.security import keep_csrf_token, set_security_headers
    from portal.i18n import inject_i18n

    app.before_request(enforce_idle_timeout)
    app.before_request(keep_csrf_token)
    app.after_request(set_security_headers)
    app.context_processor(inject_i18n)
    from portal.core.nav import register as register_nav

    register_nav(app)
    from portal.core.filters import register_filters
    from portal.core.fragments import register as register_fragments

    register_filters(app)
    register_fragments(app)


def register_fast_paths(app: Flask) -> None:
    # Lazy imports: see the module docstring. After the blueprints (the route's path).
    from portal.payments.webhook_wsgi import install

    install(app)  # the webhook inbox's deliveries answered ahead of Flask's request machinery


def register_error_handlers(app: Flask) -> None:
    # Lazy imports: see the module docstring.
    from portal.core.errors import register

    register(app)
