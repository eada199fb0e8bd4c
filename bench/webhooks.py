"""Webhook posting under gunicorn against pgbench's simple-update rate, in one run.

    python bench/webhooks.py [PAYMENTS] [--clients N] [--no-broker]

Sets up a scratch PostgreSQL database (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1/bench_payments: it is dropped and created afresh) with
PAYMENTS sandbox payments (default 1000) whose provider says they succeeded, then

- starts the portal under gunicorn (2 sync workers) and, unless --no-broker, a Celery worker
  on RabbitMQ (JOBS_BROKER_URL, default amqp://guest:guest@127.0.0.1:5672//) that delivers
  the receipts the postings queue (the requests only queue them);
- posts the signed `payment_intent.succeeded` events from N concurrent clients (default 4),
  with 30% more deliveries that are duplicates of them or late `processing` events, all
  shuffled (so duplicates and stale events arrive before and after the real one);
- runs `pgbench -N` (simple update) with the same number of clients on the same server;

and prints events/s, pgbench tps, their ratio (target >= 25%) and double postings (must be 0:
the script exits 1 otherwise).
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("PORTAL_ENV", "development")
BIN = os.path.dirname(sys.executable)
PORT = int(os.environ.get("BENCH_PORT", "5791"))
TARGET = 0.25


def pgbench_tps(url, clients: int, seconds: int = 10) -> float:
    u = make_url(url)
    scratch = f"{u.database}_pgbench"
    args = ["-h", u.host or "127.0.0.1", "-U", u.username or "postgres"]
    subprocess.run(["dropdb", *args, "--if-exists", scratch], check=True)
    subprocess.run(["createdb", *args, scratch], check=True)
    subprocess.run(["pgbench", *args, "-i", "-q", "-s", "1", scratch], check=True,
                   capture_output=True)
    out = subprocess.run(["pgbench", *args, "-N", "-c", str(clients), "-j", str(clients),
                          "-T", str(seconds), scratch], check=True, capture_output=True,
                         text=True).stdout
    subprocess.run(["dropdb", *args, scratch], check=True)
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def _setup(app, n: int) -> list[tuple[bytes, str]]:
    """n succeeded sandbox payments; their success events, plus 30% more deliveries:
    duplicates and late `processing` events."""
    from portal.accounts.models import Account, Cardholder, EntryKind, LedgerEntry
    from portal.extensions import db
    from portal.payments import services
    from portal.payments.models import SandboxIntent
    from portal.payments.sandbox import event_for, signed

    holder = Cardholder(customer_id="B1", full_name="Bench", date_of_birth=date(1980, 1, 1),
                        email="bench@example.com", timezone="UTC")
    succeeded, extra = [], []
    for i in range(max(1, n // 10)):
        account = Account(account_number=f"B{i:09d}", card_last4="4242", cardholder=holder,
                          currency="CNY", credit_limit=10**7, policy_profile="cn",
                          minimum_due=10**6, feed_as_of=date(2026, 1, 1))
        db.session.add(account)
        db.session.flush()
        db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.STATEMENT_BALANCE,
                                   component="principal", amount=10**8, currency="CNY",
                                   effective_date=date(2026, 1, 1), source_ref="open"))
        for _ in range(10):
            payment = services.open_payment(account, choice="other", other_amount=1000,
                                            currency="CNY", nonce=services.issue_nonce(account))
            services.ensure_intent(payment)
            row = db.session.get(SandboxIntent, payment.provider_ref)
            row.status = "processing"
            late = signed(event_for(row, "payment_intent.processing"))
            row.status = "succeeded"
            event = signed(event_for(row, "payment_intent.succeeded"))
            succeeded.append(event)
            extra.append(random.choice([event, late]))
    db.session.commit()
    stream = succeeded + random.sample(extra, int(len(succeeded) * 0.3))
    random.shuffle(stream)
    return stream


def _post(delivery) -> int:
    payload, signature = delivery
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    try:
        conn.request("POST", "/webhooks/payments", body=payload,
                     headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _wait_up(proc) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("gunicorn did not start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz")


def _start(env: dict, broker: bool) -> list[subprocess.Popen]:
    procs = [subprocess.Popen([os.path.join(BIN, "gunicorn"), "-w", "2", "-k", "sync",
                               "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", "wsgi:app"],
                              cwd=ROOT, env=env, start_new_session=True)]
    if broker:
        procs.append(subprocess.Popen(
            [os.path.join(BIN, "celery"), "-A", "worker:celery", "worker", "--loglevel=WARNING",
             "--concurrency", "1", "-Q", env["JOBS_QUEUE"]],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL))
    _wait_up(procs[0])
    return procs


def _stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description="webhook posting vs pgbench")
    parser.add_argument("payments", nargs="?", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-broker", action="store_true")
    options = parser.parse_args()
    n, clients, broker = options.payments, options.clients, not options.no_broker
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_payments")
    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')
    from flask_migrate import upgrade

    from portal import create_app
    from portal.accounts.models import EntryKind, LedgerEntry
    from portal.extensions import db
    from portal.outbox.models import OutboxMessage
    from portal.payments.models import Payment

    db_url = u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    workdir = tempfile.mkdtemp(prefix="portal-webhooks-")
    env = dict(os.environ, DATABASE_URL=db_url, OUTBOX_DIR=os.path.join(workdir, "outbox"),
               PORTAL_INSTANCE_PATH=workdir, JOBS_QUEUE=f"bench_webhooks_{os.getpid()}")
    if broker:
        env["JOBS_BROKER_URL"] = os.environ.get("JOBS_BROKER_URL",
                                                "amqp://guest:guest@127.0.0.1:5672//")
    else:
        env.pop("JOBS_BROKER_URL", None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "OUTBOX_DIR": env["OUTBOX_DIR"]})
    with app.app_context():
        upgrade(revision="heads")
        stream = _setup(app, n)
    procs = _start(env, broker)
    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(_post, stream))
        elapsed = time.perf_counter() - start
    finally:
        if broker:
            time.sleep(2)  # let the worker drain what the last requests queued
        _stop(procs)
    with app.app_context():
        posted = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                   .where(LedgerEntry.kind == EntryKind.PAYMENT))
        succeeded = db.session.scalar(select(func.count()).select_from(Payment)
                                      .where(Payment.status == "succeeded"))
        delivered = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.delivered_at.is_not(None)))
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    doubles = posted - succeeded  # one principal entry per payment here
    tps = pgbench_tps(url, clients)
    rate = len(stream) / elapsed
    failed = sum(1 for s in statuses if s != 200)
    print(f"gunicorn 2 sync workers, {clients} clients, receipts "
          f"{'queued to a Celery worker' if broker else 'delivered in the request'}, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"webhooks: {len(stream)} deliveries ({len(stream) - succeeded} duplicate or late) in "
          f"{elapsed:.1f}s = {rate:.0f} events/s; non-200: {failed}; posted {succeeded} "
          f"payments; receipts delivered {delivered}/{queued}; double postings: {doubles}")
    print(f"pgbench -N (simple update), {clients} clients, same server: {tps:.0f} tps")
    print(f"ratio {rate / tps:.3f} (target >= {TARGET}: {'met' if rate / tps >= TARGET else 'MISSED'})")
    sys.exit(1 if doubles or failed else 0)


if __name__ == "__main__":
    main()
