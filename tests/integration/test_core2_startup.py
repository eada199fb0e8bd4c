"""What the portal refuses at start-up in production, read from the environment as an operator
sets it (a fresh process each time: the configuration classes read it on import)."""
import base64
import os
import sys

import pytest

from portal import ROOT
from portal.config import DEFAULT_SECRET_KEY, DEV_AUDIT_KEYS
from tests.clock import child_environ, run_child

START = ("from portal import create_app; app = create_app(); "
         "print('started with rate limits in', app.config['RATELIMIT_STORAGE_URI'])")
OURS = ("PORTAL_ENV", "SECRET_KEY", "REDIS_URL", "RATELIMIT_STORAGE_URI", "DATABASE_URL",
        "PORTAL_INSTANCE_PATH", "STRIPE_SECRET_KEY", "PORTAL_NOW", "AUDIT_KEYS",
        "OUTBOX_TRANSPORT", "SMTP_HOST", "SMS_TRANSPORT", "SMS_HTTP_URL", "JOBS_BROKER_URL",
        "STORAGE_BACKEND", "STORAGE_S3_BUCKET", "STORAGE_S3_SSE",
        "STORAGE_ALLOW_LOCAL_IN_PRODUCTION", "PORTAL_BASE_URL")
STRIPE = "sk_test_for_this_test"
REDIS = "redis://127.0.0.1:6379/0"
AUDIT_KEYS = "k2026a:" + base64.b64encode(b"an audit key for this test only").decode()
# Real delivery, the job engine and the document bucket (nothing is contacted at start-up).
DELIVERY = {"OUTBOX_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1", "SMS_TRANSPORT": "http",
            "SMS_HTTP_URL": "http://127.0.0.1:9/sms",
            "JOBS_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
            "STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "portal-documents",
            "PORTAL_BASE_URL": "https://pay.example.com"}


@pytest.fixture()
def start(tmp_path):
    def _start(**env):
        environ = child_environ({k: v for k, v in os.environ.items() if k not in OURS})
        environ.pop("PORTAL_NOW")  # production refuses it: tests that want it say so
        environ.update(PORTAL_INSTANCE_PATH=str(tmp_path),
                       DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}")
        if env.get("PORTAL_ENV") == "production":
            # What production needs besides the test's point.
            environ.update(STRIPE_SECRET_KEY=STRIPE, AUDIT_KEYS=AUDIT_KEYS, **DELIVERY)
        environ.update({k: v for k, v in env.items() if v is not None})
        for name in [k for k, v in env.items() if v is None]:
            environ.pop(name, None)
        return run_child([sys.executable, "-c", START], cwd=ROOT, env=environ)
    return _start


def test_production_starts_with_rate_limits_in_ratelimit_storage_uri(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test",
                 RATELIMIT_STORAGE_URI=REDIS)
    assert done.returncode == 0, done.stderr
    assert f"started with rate limits in {REDIS}" in done.stdout


def test_production_starts_with_rate_limits_in_redis_url(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS)
    assert done.returncode == 0, done.stderr
    assert f"started with rate limits in {REDIS}" in done.stdout


def test_ratelimit_storage_uri_wins_over_redis_url(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test",
                 REDIS_URL="redis://127.0.0.1:6379/1", RATELIMIT_STORAGE_URI=REDIS)
    assert done.returncode == 0, done.stderr
    assert f"started with rate limits in {REDIS}" in done.stdout


def test_production_refuses_to_start_with_per_process_rate_limits(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test")
    assert done.returncode != 0 and "started" not in done.stdout
    assert "REDIS_URL (or RATELIMIT_STORAGE_URI) must be set in production" in done.stderr


@pytest.mark.parametrize("secret", [None, "", DEFAULT_SECRET_KEY],
                         ids=["unset", "empty", "the-default"])
def test_production_refuses_to_start_with_the_default_secret_key(start, secret):
    env = {"PORTAL_ENV": "production", "REDIS_URL": REDIS}
    if secret is not None:
        env["SECRET_KEY"] = secret
    done = start(**env)
    assert done.returncode != 0 and "started" not in done.stdout
    assert "SECRET_KEY must be set in production" in done.stderr


def test_development_starts_without_a_secret_key_or_redis(start):
    done = start(PORTAL_ENV="development")
    assert done.returncode == 0, done.stderr
    assert "started with rate limits in memory://" in done.stdout


def test_production_refuses_to_start_with_the_sandbox_payment_provider(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS,
                 STRIPE_SECRET_KEY=None)
    assert done.returncode != 0 and "started" not in done.stdout
    assert "STRIPE_SECRET_KEY must be set in production" in done.stderr


def test_production_refuses_to_start_on_a_moved_clock(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS,
                 PORTAL_NOW="2027-01-31T23:50:00+08:00")
    assert done.returncode != 0 and "started" not in done.stdout
    assert "PORTAL_NOW must not be set in production" in done.stderr


def test_a_rehearsal_clock_moves_every_now_in_a_fresh_process(tmp_path):
    environ = child_environ({k: v for k, v in os.environ.items() if k not in OURS})
    environ.update(PORTAL_INSTANCE_PATH=str(tmp_path), PORTAL_ENV="development",
                   DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}",
                   PORTAL_NOW="2027-01-31T23:50:00+08:00")
    script = ("from portal import create_app; from portal.contact import clock; "
              "from portal.timeutil import utcnow; create_app(); "
              "print(utcnow().isoformat(), clock.now().isoformat())")
    done = run_child([sys.executable, "-c", script], cwd=ROOT, env=environ)
    assert done.returncode == 0, done.stderr
    portal_now, contact_now = done.stdout.split()
    assert portal_now.startswith("2027-01-31T15:5") and contact_now.startswith("2027-01-31T15:5")


@pytest.mark.parametrize("keys", [None, DEV_AUDIT_KEYS], ids=["unset", "development key"])
def test_production_refuses_to_start_without_audit_keys_of_its_own(start, keys):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS,
                 AUDIT_KEYS=keys)
    assert done.returncode != 0 and "AUDIT_KEYS must be set in production" in done.stderr


def test_a_malformed_audit_key_is_refused_at_start(start):
    done = start(AUDIT_KEYS="k1:c2hvcnQ=")  # 5 bytes
    assert done.returncode != 0 and "shorter than 16 bytes" in done.stderr


@pytest.mark.parametrize("unset, message", [
    ({"OUTBOX_TRANSPORT": None}, "OUTBOX_TRANSPORT=smtp (with SMTP_HOST) must be set"),
    ({"OUTBOX_TRANSPORT": "file"}, "OUTBOX_TRANSPORT=smtp (with SMTP_HOST) must be set"),
    ({"SMS_TRANSPORT": None}, "SMS_TRANSPORT=http (with SMS_HTTP_URL) must be set"),
    ({"SMS_HTTP_URL": None}, "SMS_TRANSPORT=http (with SMS_HTTP_URL) must be set"),
    ({"JOBS_BROKER_URL": None}, "JOBS_BROKER_URL must be set in production"),
    ({"PORTAL_BASE_URL": None}, "PORTAL_BASE_URL must be set in production"),
    ({"PORTAL_BASE_URL": "/pay"}, "PORTAL_BASE_URL must be set in production"),
], ids=["email-unset", "email-file", "sms-unset", "sms-no-url", "no-broker", "no-base-url",
        "relative-base-url"])
def test_production_refuses_to_start_with_the_file_outbox_or_without_the_job_engine(
        start, unset, message):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS,
                 **unset)
    assert done.returncode != 0 and "started" not in done.stdout
    assert message in done.stderr


def test_development_starts_with_the_file_outbox_and_no_job_engine(start):
    done = start(PORTAL_ENV="development", OUTBOX_TRANSPORT=None, JOBS_BROKER_URL=None)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("env, message", [
    ({"STORAGE_BACKEND": None}, "STORAGE_BACKEND=s3 (with STORAGE_S3_BUCKET) must be set"),
    ({"STORAGE_BACKEND": "local"}, "STORAGE_BACKEND=s3 (with STORAGE_S3_BUCKET) must be set"),
    ({"STORAGE_S3_BUCKET": None}, "STORAGE_S3_BUCKET must be set with STORAGE_BACKEND=s3"),
    ({"STORAGE_S3_SSE": "none"}, "STORAGE_S3_SSE must be one of AES256, aws:kms"),
    ({"STORAGE_BACKEND": "disk"}, "STORAGE_BACKEND must be one of local, s3"),
], ids=["unset", "local", "no-bucket", "no-encryption", "unknown"])
def test_production_refuses_to_keep_documents_on_one_machine_or_unencrypted(start, env, message):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS,
                 **env)
    assert done.returncode != 0 and "started" not in done.stdout
    assert message in done.stderr


def test_a_single_machine_may_keep_documents_on_its_disk_when_it_says_so(start):
    done = start(PORTAL_ENV="production", SECRET_KEY="s3cret-for-this-test", REDIS_URL=REDIS,
                 STORAGE_BACKEND="local", STORAGE_ALLOW_LOCAL_IN_PRODUCTION="1")
    assert done.returncode == 0, done.stderr


def test_development_keeps_documents_on_disk_by_default(start):
    done = start(PORTAL_ENV="development", STORAGE_BACKEND=None)
    assert done.returncode == 0, done.stderr
