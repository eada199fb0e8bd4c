"""Configuration from the environment. Tests pass a mapping to `create_app` instead."""
import os
from datetime import timedelta

DEFAULT_SECRET_KEY = "dev-only-not-secret"
# The audit log's key outside production (docs/audit.md); production refuses to start with it.
DEV_AUDIT_KEYS = "dev:ZGV2LW9ubHktYXVkaXQta2V5LW5vdC1zZWNyZXQ="


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _database_url(instance_path):
    url = _env("DATABASE_URL")
    if url is None:
        return f"sqlite:///{os.path.join(instance_path, 'portal.db')}"
    # Operators paste postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET_KEY)
    # No pre-ping (a SELECT 1 at every checkout): portal.core.database checks a pooled
    # connection's socket instead, and a connection older than this many seconds is replaced
    # (one that died silently, e.g. dropped by a firewall, is not kept longer than that).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": int(_env("DATABASE_POOL_RECYCLE", "300"))}
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "zh_Hans")
    # Session: HttpOnly and SameSite always, Secure outside development.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    CARDHOLDER_IDLE_TIMEOUT = timedelta(minutes=15)
    STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    # However active, a session ends this long after sign-in (then sign in again).
    CARDHOLDER_MAX_SESSION = timedelta(hours=2)
    STAFF_MAX_SESSION = timedelta(hours=10)  # a working day
    # How long the one-time link to set a password and enrol an authenticator stays valid.
    STAFF_SETUP_LINK_TTL = timedelta(hours=48)
    # The cookie lives as long as the longest idle limit; each kind's own limit is enforced on
    # the server (portal.auth.session.enforce_idle_timeout).
    PERMANENT_SESSION_LIFETIME = max(CARDHOLDER_IDLE_TIMEOUT, STAFF_IDLE_TIMEOUT)
    # The cookie is sent again only when the session changed (activity is noted at most every
    # 30 s, portal.auth.session.LAST_SEEN_STEP), not signed and sent on every response.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT = None  # the session itself expires; a stale token would only annoy
    # Login protection: these numbers are policy, kept here so operators can tune them.
    LOGIN_LOCKOUT_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    LOGIN_RATE_LIMIT_IP = _env("LOGIN_RATE_LIMIT_IP", "30 per 15 minutes")
    LOGIN_RATE_LIMIT_IDENTITY = _env("LOGIN_RATE_LIMIT_IDENTITY", "10 per 15 minutes")
    # One-tap links in reminders (portal/links): how long one works, how many wrong answers
    # to the light check void it, and how long a right answer lets the session show what the
    # message was about and tie what follows (a payment, a plan) to the message.
    ONE_TAP_LINK_TTL = timedelta(days=int(_env("ONE_TAP_LINK_DAYS", "7")))
    ONE_TAP_MAX_CHECKS = 3
    ONE_TAP_GRANT_TTL = timedelta(minutes=30)
    OTP_TTL_MINUTES = 10
    OTP_MAX_ATTEMPTS = 5
    REDIS_URL = _env("REDIS_URL")
    # Flask-Limiter's own variable wins; else the shared Redis; else per-process memory.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or _env("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    OUTBOX_DIR = _env("OUTBOX_DIR")  # default: <instance>/outbox
    UPLOAD_DIR = _env("UPLOAD_DIR")  # default: <instance>/uploads
    # Documents (docs/operations.md, "Document storage"): `local` keeps them in UPLOAD_DIR;
    # `s3` in a bucket, encrypted at rest. Production refuses `local` unless allowed (one machine).
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")  # local | s3
    STORAGE_ALLOW_LOCAL_IN_PRODUCTION = _env("STORAGE_ALLOW_LOCAL_IN_PRODUCTION", "0").lower() in (
        "1", "true", "yes", "on")
    STORAGE_S3_BUCKET = _env("STORAGE_S3_BUCKET")
    STORAGE_S3_PREFIX = _env("STORAGE_S3_PREFIX", "")  # e.g. "documents/"
    STORAGE_S3_ENDPOINT_URL = _env("STORAGE_S3_ENDPOINT_URL")  # default: AWS's own
    STORAGE_S3_REGION = _env("STORAGE_S3_REGION")
    STORAGE_S3_SSE = _env("STORAGE_S3_SSE", "AES256")  # AES256 | aws:kms
    STORAGE_S3_KMS_KEY_ID = _env("STORAGE_S3_KMS_KEY_ID")  # with aws:kms; default: the AWS key
    STORAGE_S3_ADDRESSING_STYLE = _env("STORAGE_S3_ADDRESSING_STYLE", "auto")  # auto|path|virtual
    # Five 10 MB documents plus the form: anything bigger is refused before it is read (413).
    MAX_CONTENT_LENGTH = 52 * 1024 * 1024
    PAYMENT_PROVIDER = "stripe" if _env("STRIPE_SECRET_KEY") else "sandbox"
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")
    # Operators' knobs read by features (every one settable from the environment).
    PORTAL_BASE_URL = _env("PORTAL_BASE_URL", "")  # absolute links in job-sent messages
    # Rehearsals and replays: the portal's clock reads this moment at start-up and runs on from
    # there (portal.timeutil); refused in production.
    PORTAL_NOW = _env("PORTAL_NOW")
    DISPUTE_APPROVAL_THRESHOLD = int(_env("DISPUTE_APPROVAL_THRESHOLD", "100000"))
    PAYMENT_RECONCILE_MINUTES = int(_env("PAYMENT_RECONCILE_MINUTES", "15"))
    PAYMENT_ABANDON_HOURS = int(_env("PAYMENT_ABANDON_HOURS", "24"))
    PAYMENT_PROVIDER_TIMEOUT = int(_env("PAYMENT_PROVIDER_TIMEOUT", "20"))
    PAYMENT_PROVIDER_RETRIES = int(_env("PAYMENT_PROVIDER_RETRIES", "1"))
    PAYMENT_SANDBOX_WEBHOOK_SECRET = _env("PAYMENT_SANDBOX_WEBHOOK_SECRET")
    # The journal with the issuer (docs/money.md): days an old feed (no applied_portal_ids)
    # must be dated after a movement's posting day to count it as applied, and the age in days
    # at which an unacknowledged portal movement is reported by `flask journal ageing`.
    JOURNAL_OLD_FEED_LAG_DAYS = int(_env("JOURNAL_OLD_FEED_LAG_DAYS", "2"))
    JOURNAL_ACK_DAYS = int(_env("JOURNAL_ACK_DAYS", "3"))
    # Keys of the audit log's chains, "id:base64secret,..." (the first signs; docs/audit.md),
    # and where `flask audit anchor` writes signed global heads (default <instance>/audit-anchors).
    AUDIT_KEYS = _env("AUDIT_KEYS")
    AUDIT_ANCHOR_DIR = _env("AUDIT_ANCHOR_DIR")
    # The job engine (docs/operations.md, "Scheduled jobs"): Celery on RabbitMQ. Without a
    # broker nothing is scheduled (development: run the CLI commands by hand).
    JOBS_BROKER_URL = _env("JOBS_BROKER_URL")
    JOBS_QUEUE = _env("JOBS_QUEUE", "portal")
    JOBS_MAX_RETRIES = int(_env("JOBS_MAX_RETRIES", "5"))
    JOBS_RETRY_BACKOFF = int(_env("JOBS_RETRY_BACKOFF", "30"))  # seconds, doubled each retry
    JOBS_NIGHTLY_CHUNK = int(_env("JOBS_NIGHTLY_CHUNK", "1000"))  # accounts per task
    JOBS_NIGHTLY_BATCH = int(_env("JOBS_NIGHTLY_BATCH", "200"))  # accounts per transaction
    JOBS_NIGHTLY_STALE_HOURS = int(_env("JOBS_NIGHTLY_STALE_HOURS", "3"))
    JOURNAL_EXPORT_DIR = _env("JOURNAL_EXPORT_DIR")  # default: <instance>/exports
    MAIL_FROM = _env("MAIL_FROM", "Repayment portal <no-reply@portal.example>")
    # Delivery (docs/operations.md, "Email and SMS delivery"): the file transports write to
    # OUTBOX_DIR (development, tests); production refuses them.
    OUTBOX_TRANSPORT = _env("OUTBOX_TRANSPORT", "file")  # email: file | smtp
    SMTP_HOST = _env("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = int(_env("SMTP_PORT", "25"))
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env("SMTP_STARTTLS", "0").lower() in ("1", "true", "yes", "on")
    SMTP_FROM = _env("SMTP_FROM")  # default: MAIL_FROM
    SMTP_TIMEOUT = int(_env("SMTP_TIMEOUT", "20"))  # seconds
    SMS_TRANSPORT = _env("SMS_TRANSPORT", "file")  # file | http
    SMS_HTTP_URL = _env("SMS_HTTP_URL")
    SMS_HTTP_TOKEN = _env("SMS_HTTP_TOKEN")
    SMS_HTTP_TIMEOUT = int(_env("SMS_HTTP_TIMEOUT", "10"))  # seconds
    # After this many failed attempts (retried 5 min, 10 min, ... up to 6 h apart) a message
    # fails for good; a permanent refusal (SMTP 5xx, SMS provider 4xx) fails it at once.
    OUTBOX_MAX_ATTEMPTS = int(_env("OUTBOX_MAX_ATTEMPTS", "8"))
    # With a broker: beat asks a worker this often (seconds) to send the transactional
    # messages (receipts, codes) committed since, instead of each commit sending a task
    # (`portal.outbox_poll`); 0: a task per commit, as before.
    OUTBOX_POLL_SECONDS = float(_env("OUTBOX_POLL_SECONDS", "1"))
    # The webhook inbox (portal/payments/inbox.py): the request records a verified event and
    # answers; beat's poll (`portal.webhook_poll`, every OUTBOX_POLL_SECONDS) has a worker post
    # what was recorded, in batches. "auto": on with a broker and that poll; "1"/"0": forced.
    WEBHOOK_INBOX = _env("WEBHOOK_INBOX", "auto")
    WEBHOOK_BATCH = int(_env("WEBHOOK_BATCH", "100"))  # events a worker's transaction
    WEBHOOK_MAX_ATTEMPTS = int(_env("WEBHOOK_MAX_ATTEMPTS", "8"))  # then "failed", for a person
    # `/health/jobs` answers 503 when an inbox event has been due this long and is still not
    # posted (the worker or beat has stopped): minutes.
    WEBHOOK_STALE_MINUTES = int(_env("WEBHOOK_STALE_MINUTES", "10"))
    # Days an inbox event's verified body (it can hold billing details) is kept after the
    # event was posted; the daily `payments prune-webhooks` drops older ones.
    WEBHOOK_BODY_DAYS = int(_env("WEBHOOK_BODY_DAYS", "30"))
    FORCE_HTTPS_HEADERS = True
    # Behind a load balancer: how many proxies set X-Forwarded-For/-Proto (0 = trust none),
    # so rate limits and the audit log see the cardholder's address, not the balancer's.
    TRUST_PROXY_HOPS = int(_env("TRUST_PROXY_HOPS", "0"))

    @staticmethod
    def database_url(instance_path):
        return _database_url(instance_path)


class DevelopmentConfig(Config):
    AUDIT_KEYS = _env("AUDIT_KEYS", DEV_AUDIT_KEYS)
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    FORCE_HTTPS_HEADERS = False


class TestingConfig(DevelopmentConfig):
    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"


class ProductionConfig(Config):
    pass


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class():
    return CONFIGS[_env("PORTAL_ENV", "development")]
