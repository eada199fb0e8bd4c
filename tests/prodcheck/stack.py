"""The processes and peers of the production check, and their settings.

Every process runs in a process group of its own and is killed at the end, whatever happened
(`Stack.close`). The portal's processes get the production settings (`Stack.environ`): a
scratch PostgreSQL database, Redis, RabbitMQ on a queue of this run's own, the SMTP server
and the SMS peer started here, and localstripe for Stripe.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid

import boto3
import psycopg
from kombu import Connection
from sqlalchemy.engine import make_url

from tests.delivery_peers import HttpSmsPeer, SmtpPeer, free_port
from tests.integration.jobs_helpers import BROKER_URL, ROOT, Process, wait_for
from tests.integration.test_stripe_peer import RUN_PEER

DATABASE_URL = os.environ.get("PRODCHECK_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1/portal_prodcheck")
REDIS_URL = os.environ.get("PRODCHECK_REDIS_URL", "redis://127.0.0.1:6379/0")
STRIPE_WEBHOOK_SECRET = "whsec_prodcheck"
# What a run should never inherit from the shell that starts it.
DROPPED = ("PORTAL_NOW", "TEST_DATABASE_URL", "PYTEST_XDIST_WORKER", "FAKETIME",
           "LD_PRELOAD", "DONT_FAKE_MONOTONIC")


def database_url(suffix: str = "") -> str:
    url = make_url(DATABASE_URL)
    return url.set(database=f"{url.database}{suffix}").render_as_string(hide_password=False)


def admin_dsn() -> str:
    return make_url(DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)


def recreate_database(url: str, template: str | None = None) -> None:
    """An empty database at `url` (dropped first if it exists), or a copy of `template`'s."""
    name = make_url(url).database
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"{copy}')


def drop_database(url: str) -> None:
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except Exception:  # noqa: BLE001 - not up yet
        return False


class Stack:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="prodcheck-")
        self.queue = f"portal-prodcheck-{uuid.uuid4().hex[:10]}"
        self.processes: dict[str, Process] = {}
        self.killed: set[str] = set()
        self._closers = []
        self.secret_key = secrets.token_urlsafe(32)
        self.audit_keys = "prod1:" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.smtp = self.sms = None
        self.stripe_base = None
        self.storage: dict[str, str] = {}
        self.web: dict[str, str] = {}  # name -> base URL

    # -- settings ----------------------------------------------------------------------------

    def environ(self, env: str = "production", **overrides) -> dict:
        """The production settings every portal process of the check runs with."""
        base = {k: v for k, v in os.environ.items() if k not in DROPPED}
        instance = os.path.join(self.tmp, "instance")
        base.update({
            "PORTAL_ENV": env, "SECRET_KEY": self.secret_key, "AUDIT_KEYS": self.audit_keys,
            "DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL,
            "JOBS_BROKER_URL": BROKER_URL, "JOBS_QUEUE": self.queue, "JOBS_RETRY_BACKOFF": "1",
            "OUTBOX_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port if self.smtp else 25),
            "SMTP_FROM": "Repayment portal <no-reply@portal.example>",
            "SMS_TRANSPORT": "http", "SMS_HTTP_URL": self.sms.url if self.sms else "",
            "SMS_HTTP_TOKEN": "prodcheck-sms-token",
            "STRIPE_SECRET_KEY": "sk_test_prodcheck", "STRIPE_PUBLISHABLE_KEY": "pk_test_prodcheck",
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.stripe_base or "",
            "PAYMENT_PROVIDER_RETRIES": "0",
            "PORTAL_INSTANCE_PATH": instance, "UPLOAD_DIR": os.path.join(instance, "uploads"),
            "OUTBOX_DIR": os.path.join(instance, "outbox"),
            "AUDIT_ANCHOR_DIR": os.path.join(instance, "anchors"),
            "JOURNAL_EXPORT_DIR": os.path.join(instance, "exports"),
            # The check's client stands where a TLS load balancer would: it says https.
            # Production refuses to start without PORTAL_BASE_URL: web "a", or (for a command
            # run before it is up, such as the migration) loopback.
            "TRUST_PROXY_HOPS": "1", "PORTAL_BASE_URL": self.web.get("a", "http://127.0.0.1"),
            "PYTHONUNBUFFERED": "1",
        })
        base.update(self.storage)
        base.update({key: str(value) for key, value in overrides.items()})
        return base

    # -- processes ---------------------------------------------------------------------------

    def start(self, name: str, args: list[str], env: dict | None = None) -> Process:
        process = Process(args, env or self.environ(), name)
        self.processes[name] = process
        return process

    def flask(self, *args: str, env: dict | None = None, check: bool = True, timeout=300
              ) -> subprocess.CompletedProcess:
        """An operator command (`flask --app wsgi ...`), with the production settings."""
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                              env=env or self.environ(), capture_output=True, text=True,
                              timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def gunicorn(self, name: str) -> str:
        """Start a web process (gunicorn, two workers); `wait_until_up` waits for it."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        self.web[name] = base
        self.start(f"web-{name}", [
            sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--access-logfile", "-", "--graceful-timeout", "5",
            "--timeout", "120"])  # a loaded CI machine must not get a slow worker killed
        return base

    def worker(self, name: str, **settings) -> Process:
        """Start a Celery worker (one pool process) on this run's queue."""
        return self.start(f"worker-{name}", [
            sys.executable, "-m", "celery", "-A", "worker:celery", "worker", "--loglevel=INFO",
            "--concurrency=1", "-n", f"{name}-{self.queue}@localhost", "-Q", self.queue,
            "--without-gossip", "--without-mingle", "--without-heartbeat"],
            self.environ(**settings))

    def beat(self) -> Process:
        return self.start("beat", [
            sys.executable, "-m", "celery", "-A", "worker:celery", "beat", "--loglevel=INFO",
            "-s", os.path.join(self.tmp, "beat-schedule")])

    def wait_until_up(self, timeout: float = 120) -> None:
        """Every process started so far answers: web processes /healthz, workers "ready.",
        beat "Starting" (they start together: each loads the whole app)."""
        for name, process in self.processes.items():
            if name.startswith("web-"):
                base = self.web[name[4:]]
                wait_for(lambda: http_answers(base + "/healthz") or process.proc.poll() is not None,
                         timeout, f"{name} to answer /healthz")
                if process.proc.poll() is not None:
                    raise AssertionError(f"{name} exited:\n{process.output()}")
            elif name.startswith("worker-") and name not in self.killed:
                process.wait_for_line("ready.", timeout)
            elif name == "beat":
                process.wait_for_line("beat: Starting", timeout)

    def stop(self, name: str) -> int:
        """SIGTERM, as an operator stops a process: a Celery worker finishes the task in hand
        (warm shutdown), beat and gunicorn exit. Returns the exit status."""
        process = self.processes[name]
        process.proc.send_signal(signal.SIGTERM)
        status = process.proc.wait(timeout=60)
        self.killed.add(name)
        return status

    def kill(self, name: str) -> None:
        self.processes[name].kill(signal.SIGKILL)
        self.killed.add(name)

    # -- peers -------------------------------------------------------------------------------

    def start_peers(self) -> None:
        self.smtp = SmtpPeer().start()
        self._closers.append(self.smtp.stop)
        self.sms = HttpSmsPeer().start()
        self._closers.append(self.sms.stop)
        port = free_port()
        self.stripe_base = f"http://127.0.0.1:{port}"
        stripe = self.start("localstripe", [sys.executable, "-c", RUN_PEER, str(port)], env={
            k: v for k, v in os.environ.items() if k not in DROPPED})
        wait_for(lambda: _stripe_answers(self.stripe_base) or stripe.proc.poll() is not None,
                 30, "localstripe to answer")
        if stripe.proc.poll() is not None:
            raise AssertionError(f"localstripe exited:\n{stripe.output()}")
        self.storage = start_s3_peer(self)

    def register_webhook(self, url: str) -> None:
        """The provider's webhook endpoint, as an operator sets it in Stripe's dashboard."""
        data = urllib.parse.urlencode({"url": url, "secret": STRIPE_WEBHOOK_SECRET}).encode()
        request = urllib.request.Request(f"{self.stripe_base}/_config/webhooks/portal", data=data,
                                         headers=_stripe_auth())
        urllib.request.urlopen(request, timeout=5).close()

    # -- the end -----------------------------------------------------------------------------

    def logs(self, lines: int = 40) -> str:
        return "\n".join(f"--- {name} (last {lines} lines)\n" + "".join(p.lines[-lines:])
                         for name, p in self.processes.items())

    def close(self) -> None:
        """Kill every process (the whole group of each), stop the peers, remove the queue."""
        for process in reversed(list(self.processes.values())):
            try:
                process.kill(signal.SIGKILL)
            except Exception:  # noqa: BLE001 - carry on killing the others
                pass
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # noqa: BLE001
                pass
        try:
            with Connection(BROKER_URL, connect_timeout=2) as conn:
                conn.default_channel.queue_delete(self.queue)
                conn.default_channel.exchange_delete(self.queue)
        except Exception:  # noqa: BLE001 - a queue left behind harms no other run
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def _stripe_auth() -> dict:
    return {"Authorization": "Basic " + base64.b64encode(b"sk_test_prodcheck:").decode()}


def _stripe_answers(base: str) -> bool:
    try:
        request = urllib.request.Request(base + "/v1/balance", headers=_stripe_auth())
        with urllib.request.urlopen(request, timeout=1) as response:
            return bool(json.load(response))
    except Exception:  # noqa: BLE001 - not up yet
        return False


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="prodcheck", aws_secret_access_key="prodcheck")


def start_s3_peer(stack: Stack) -> dict[str, str]:
    """A moto server in S3 mode (moto is a dev dependency) and the settings that send documents
    there (docs/operations.md, "Document storage"): production refuses local disk."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    peer = stack.start("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                              str(port)], env={k: v for k, v in os.environ.items()
                                               if k not in DROPPED})
    wait_for(lambda: http_answers(endpoint) or peer.proc.poll() is not None, 30,
             "the S3 peer to answer")
    bucket = "portal-prodcheck"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return {"STORAGE_BACKEND": "s3", "STORAGE_S3_ENDPOINT_URL": endpoint,
            "STORAGE_S3_BUCKET": bucket, "AWS_ACCESS_KEY_ID": "prodcheck",
            "AWS_SECRET_ACCESS_KEY": "prodcheck", "AWS_DEFAULT_REGION": "us-east-1"}
