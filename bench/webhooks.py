"""Webhook posting under gunicorn against pgbench's simple-update rate, in one run.

    python bench/webhooks.py [PAYMENTS] [--clients N] [--workers N] [--no-broker]
    python bench/webhooks.py --against REV [--rounds N]   # REV's tree and this one, one run

Sets up a scratch PostgreSQL database (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1/bench_payments: it is dropped and created afresh) with
PAYMENTS sandbox payments (default 1000) whose provider says they succeeded, then

- starts the portal under gunicorn (sync workers, one per core unless --workers) and, unless --no-broker, a Celery worker
  on RabbitMQ (JOBS_BROKER_URL, default amqp://guest:guest@127.0.0.1:5672//) that delivers
  the receipts the postings queue (the requests only queue them);
- posts the signed `payment_intent.succeeded` events from N concurrent clients (default 4),
  with 30% more deliveries that are duplicates of them or late `processing` events, all
  shuffled (so duplicates and stale events arrive before and after the real one);
- runs `pgbench -N` (simple update) with the same number of clients on the same server;

and prints events/s (counted until every payment is posted: with the webhook inbox, the
requests only record the events and the Celery worker posts them in batches, woken by the
first of them (`portal.webhook_drain`) or by beat's `portal.webhook_poll`), pgbench tps,
their ratio (target >= 25%), the CPU time spent per delivery by the gunicorn workers, the
PostgreSQL backends serving the scratch database, the Celery worker (and beat, when the
receipts go by the outbox poll), RabbitMQ and the bench's own client, beside the whole
machine's; how long the receipts took from posting to delivery; and double postings (must be
0, and every receipt sent once: the script exits 1 otherwise).
--worker-class gthread serves with threads that keep connections (the client then keeps one
per thread). It also posts a few deliveries in-process (Flask's test client, receipts
queued) and prints the SQL statements each kind of delivery sends.

With --against REV, REV is checked out in a temporary git worktree and both trees are measured
in the same run, alternating (old, new, then new, old in the next round), each on a fresh
database: the scratch database and its payments are made by this tree's code (so REV must
have the same migrations, or fewer: this tree may add some), the servers and the in-process count run the tree's own code.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.environ.get("BENCH_TREE", ROOT))  # the in-process count: the tree's code
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
    duplicates and late `processing` events. Signed now: `_resigned` signs them again just
    before they are posted (a signature older than 5 minutes is refused)."""
    from portal.accounts.models import Account, Cardholder, EntryKind, LedgerEntry
    from portal.extensions import db
    from portal.payments import services
    from portal.payments.models import SandboxIntent
    from portal.payments.sandbox import event_for, signed

    random.seed(n)  # the same mix of duplicates and late events, in the same order, each run
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


def _resigned(stream: list[tuple[bytes, str]], secret: str) -> list[tuple[bytes, str]]:
    from portal.payments.signing import sign

    return [(payload, sign(payload, secret)) for payload, _ in stream]


_KEPT = threading.local()  # with --keep-alive: each client thread's connection


def _request_bytes(delivery) -> bytes:
    """The whole HTTP request of a delivery, as `_post` sends it on a connection of its own."""
    payload, signature = delivery
    head = (f"POST /webhooks/payments HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n"
            f"Stripe-Signature: {signature}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + payload


def _post(delivery, keep_alive: bool = False) -> int:
    """Send one delivery; its answer's status. Without keep-alive (sync workers answer and
    close) the request's bytes, made before the clock starts (`_request_bytes`), go over a
    plain socket and the answer is read to the server's close: the client's CPU a delivery
    is then about half of http.client's (0.2-0.3 against 0.4-0.5 ms), which matters because
    the client shares the machine's 2 cores with the portal it measures (pgbench's client
    is C)."""
    if not keep_alive:
        with socket.create_connection(("127.0.0.1", PORT), timeout=120) as conn:
            conn.sendall(delivery)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        return int(answer[9:12])
    payload, signature = delivery
    conn = getattr(_KEPT, "conn", None)
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    try:
        conn.request("POST", "/webhooks/payments", body=payload,
                     headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if not response.will_close:
            _KEPT.conn, conn = conn, None
        else:
            _KEPT.conn = None
        return response.status
    finally:
        if conn is not None:
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


def _polls(tree: str) -> bool:
    """Whether the tree's job engine sends receipts by a poller on beat (the outbox poll)."""
    with open(os.path.join(tree, "portal", "tasks", "schedule.py")) as f:
        return "POLL_TASK" in f.read()


def _start(env: dict, broker: bool, tree: str, workers: int, worker_class: str,
           threads: int) -> list[subprocess.Popen]:
    """gunicorn; with a broker, the Celery worker and, for a tree whose receipts go by the
    outbox poll, beat (its schedule file in the run's directory)."""
    gunicorn = [os.path.join(BIN, "gunicorn"), "-w", str(workers), "-k", worker_class]
    if worker_class == "gthread":
        gunicorn += ["--threads", str(threads)]
    procs = [subprocess.Popen(gunicorn + ["-b", f"127.0.0.1:{PORT}", "--log-level", "warning",
                                          "wsgi:app"],
                              cwd=tree, env=env, start_new_session=True)]
    if broker:
        procs.append(subprocess.Popen(
            [os.path.join(BIN, "celery"), "-A", "worker:celery", "worker", "--loglevel=WARNING",
             "--concurrency", "1", "-Q", env["JOBS_QUEUE"]],
            cwd=tree, env=env, start_new_session=True, stdout=subprocess.DEVNULL))
        if _polls(tree):
            procs.append(subprocess.Popen(
                [os.path.join(BIN, "celery"), "-A", "worker:celery", "beat", "--loglevel=WARNING",
                 "-s", os.path.join(env["PORTAL_INSTANCE_PATH"], "beat-schedule")],
                cwd=tree, env=env, start_new_session=True, stdout=subprocess.DEVNULL))
    _wait_up(procs[0])
    return procs


def _cpu_seconds(leader: int) -> float:
    """User and system CPU of every live process in `leader`'s session (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == leader:  # session id
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _pid_cpu(pid: int) -> float | None:
    """User and system CPU seconds of one process (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all cores, every process: /proc/stat)."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _named_pids(name: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == name:
                    found.append(int(pid))
        except OSError:
            continue
    return found


class Backends:
    """The CPU of the PostgreSQL backends serving one database, from /proc, while the
    deliveries run: their pids are read from pg_stat_activity every 0.2 s (a backend that
    ends between two looks loses its last 0.2 s; the web workers and the Celery worker keep
    theirs in their pools). pg_stat_statements would need a restart: not used."""

    def __init__(self, url: str):
        import psycopg

        u = make_url(url)
        self.database = u.database
        admin = u.set(drivername="postgresql", database="postgres")
        self.conn = psycopg.connect(admin.render_as_string(hide_password=False),
                                    autocommit=True)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stopped = threading.Event()
        self._look(first=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _look(self, first: bool = False) -> None:
        pids = [row[0] for row in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))]
        for pid in pids:
            cpu = _pid_cpu(pid)
            if cpu is None:
                continue
            self.first.setdefault(pid, cpu if first else 0.0)
            self.last[pid] = cpu

    def _run(self) -> None:
        while not self.stopped.wait(0.2):
            self._look()

    def stop(self) -> float:
        """Stop looking; the CPU seconds the database's backends spent since the start."""
        self.stopped.set()
        self.thread.join()
        self._look()
        self.conn.close()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def _stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _count(n: int) -> None:
    """In this tree's code (PYTHONPATH): n payments on BENCH_DATABASE_URL, their deliveries
    posted through Flask's test client with the receipts left queued; prints the statements
    each kind of delivery sent (median) and the in-process time and CPU (median)."""
    import statistics

    from flask_migrate import upgrade
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db
    from portal.outbox import services as outbox

    url = _fresh_database(os.environ["BENCH_DATABASE_URL"])
    # the request as it runs with a job engine: with the webhook inbox (a tree that has it),
    # only recorded; the worker's posting is in the live run's Celery CPU
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WEBHOOK_INBOX": "1",
                      "OUTBOX_DIR": os.path.join(tempfile.mkdtemp(), "outbox")})
    with app.app_context():
        upgrade(revision="heads")
        stream = _setup(app, n)
        outbox.register_dispatcher(lambda ids: None)  # queued: a worker would deliver them
        seen: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    client, kinds = app.test_client(), {}
    for payload, signature in stream:
        seen.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.post("/webhooks/payments", data=payload, headers={
            "Stripe-Signature": signature, "Content-Type": "application/json"})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        kind = ("succeeded" if b'"payment_intent.succeeded"' in payload else "processing") \
            + " " + response.get_json()["outcome"]
        kinds.setdefault(kind, []).append((len(seen), wall * 1000, cpu * 1000))
    for kind, got in sorted(kinds.items()):
        print(f"COUNT {kind.replace(' ', '/')} {len(got)} "
              f"{statistics.median(g[0] for g in got):.0f} "
              f"{statistics.median(g[1] for g in got):.2f} "
              f"{statistics.median(g[2] for g in got):.2f}")


def _fresh_database(url: str) -> str:
    """Drop and create the database `url` names; its SQLAlchemy URL (psycopg)."""
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _head(tree: str) -> str:
    """The tree's commit, "+changes" when tracked files differ from it."""
    return subprocess.run(["git", "-C", tree, "describe", "--always", "--dirty=+changes"],
                          capture_output=True, text=True).stdout.strip()


def _posted(app, n: int, wait: float = 120.0) -> None:
    """Wait until the n payments are posted (at once for a tree that posts in the request;
    the webhook inbox's worker posts them after), or `wait` seconds."""
    from portal.extensions import db
    from portal.payments.models import Payment

    deadline = time.monotonic() + wait
    with app.app_context():
        while db.session.scalar(select(func.count()).select_from(Payment)
                                .where(Payment.status == "succeeded")) < n \
                and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.05)
        db.session.remove()


def _receipts(app, broker: bool, wait: float = 60.0) -> tuple[int, int, list[float]]:
    """Receipts delivered, queued, and how long each delivered one took from its queueing
    (in the request) to its delivery (seconds, sorted); waits for the last ones up to `wait`
    seconds."""
    from portal.extensions import db
    from portal.outbox.models import OutboxMessage

    table = OutboxMessage.__table__
    deadline = time.monotonic() + (wait if broker else 0)
    with app.app_context():
        while True:
            rows = db.session.execute(select(table.c.created_at, table.c.delivered_at)).all()
            db.session.rollback()
            if all(r.delivered_at for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        db.session.remove()
    took = sorted((r.delivered_at - r.created_at).total_seconds() for r in rows if r.delivered_at)
    return len(took), len(rows), took


def _files(folder: str) -> int:
    """Messages the file transports wrote (one file a send: a receipt sent twice shows)."""
    return sum(len(names) for _, _, names in os.walk(folder))


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] \
        if sorted_values else float("nan")


def measure(label: str, tree: str, url: str, n: int, clients: int, workers: int,
            broker: bool, worker_class: str = "sync", threads: int = 4) -> dict:
    """One run of `tree`'s portal: fresh database, deliveries, checks, pgbench."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.accounts.models import EntryKind, LedgerEntry
    from portal.extensions import db
    from portal.payments.models import Payment
    from portal.payments.sandbox import webhook_secret

    db_url = _fresh_database(url)
    workdir = tempfile.mkdtemp(prefix="portal-webhooks-")
    env = dict(os.environ, DATABASE_URL=db_url, OUTBOX_DIR=os.path.join(workdir, "outbox"),
               PORTAL_INSTANCE_PATH=workdir, JOBS_QUEUE=f"bench_webhooks_{os.getpid()}",
               PYTHONPATH=tree)
    if broker:
        env["JOBS_BROKER_URL"] = os.environ.get("JOBS_BROKER_URL",
                                                "amqp://guest:guest@127.0.0.1:5672//")
    else:
        env.pop("JOBS_BROKER_URL", None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "OUTBOX_DIR": env["OUTBOX_DIR"]})
    with app.app_context():
        upgrade(revision="heads")
        stream = _setup(app, n)
        secret = webhook_secret()
        db.session.remove()
    procs = _start(env, broker, tree, workers, worker_class, threads)
    keep_alive = worker_class != "sync"  # sync workers close every connection
    try:
        stream = _resigned(stream, secret)
        requests = stream if keep_alive else [_request_bytes(d) for d in stream]
        time.sleep(1)  # the Celery worker and beat finish starting before the clock starts
        rabbit = {pid: _pid_cpu(pid) or 0.0 for pid in _named_pids("beam.smp")}
        backends = Backends(db_url)
        cpu = [_cpu_seconds(p.pid) for p in procs]
        machine, client = _machine_busy(), time.process_time()
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(lambda d: _post(d, keep_alive), requests))
        answered = time.perf_counter() - start
        _posted(app, n)  # a tree with the webhook inbox posts after answering
        elapsed = time.perf_counter() - start
        client, machine = time.process_time() - client, _machine_busy() - machine
        window = [_cpu_seconds(p.pid) - before for p, before in zip(procs, cpu)]
        delivered, queued, took = _receipts(app, broker)
        sent = _files(env["OUTBOX_DIR"])
        cpu = [_cpu_seconds(p.pid) - before for p, before in zip(procs, cpu)]
        postgres = backends.stop()
        rabbit = sum((_pid_cpu(pid) or before) - before for pid, before in rabbit.items())
    finally:
        _stop(procs)
    with app.app_context():
        posted = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                   .where(LedgerEntry.kind == EntryKind.PAYMENT))
        succeeded = db.session.scalar(select(func.count()).select_from(Payment)
                                      .where(Payment.status == "succeeded"))
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    doubles = posted - succeeded  # one principal entry per payment here
    tps = pgbench_tps(url, clients)
    rate = len(stream) / elapsed
    failed = sum(1 for s in statuses if s != 200)
    each = 1000 / len(stream)  # seconds in all -> ms a delivery
    parts = {"gunicorn workers": cpu[0], "PostgreSQL backends": postgres}
    if broker:
        parts["Celery worker" + (" and beat" if len(procs) > 2 else "")] = sum(cpu[1:])
        parts["RabbitMQ (whole server)"] = rabbit
    parts["bench client"] = client
    named = sum(parts.values())
    print(f"{label}: gunicorn {workers} {worker_class} workers"
          + (f" x {threads} threads, client keep-alive" if keep_alive else "")
          + f", {clients} clients, receipts "
          f"{'queued to a Celery worker' if broker else 'delivered in the request'}"
          + (" (outbox poll on beat)" if broker and len(procs) > 2 else "")
          + f", load {os.getloadavg()[0]:.1f}")
    print(f"{label}: webhooks: {len(stream)} deliveries ({len(stream) - succeeded} duplicate or "
          f"late) answered in {answered:.1f}s, all posted in {elapsed:.1f}s = {rate:.0f} "
          f"events/s; non-200: {failed}; posted {succeeded} "
          f"payments; receipts delivered {delivered}/{queued} ({sent} sent); double postings: "
          f"{doubles}")
    if took:
        print(f"{label}: receipt from its posting to its delivery: median "
              f"{_quantile(took, 0.5) * 1000:.0f} ms, p99 {_quantile(took, 0.99) * 1000:.0f} ms, "
              f"max {took[-1] * 1000:.0f} ms")
    print(f"{label}: CPU per delivery: " + ", ".join(
        f"{name} {seconds * each:.1f} ms" for name, seconds in parts.items())
        + f"; named parts {named * each:.1f} ms (until the last receipt was sent); the whole "
        f"machine while the deliveries ran {machine * each:.1f} ms (other sessions and "
        f"PostgreSQL's own processes included)")
    celery = f"Celery worker{' and beat' if len(procs) > 2 else ''}"
    print(f"{label}: CPU per delivery until every payment was posted: gunicorn workers "
          f"{window[0] * each:.1f} ms"
          + (f", {celery} {sum(window[1:]) * each:.1f} ms" if broker else "")
          + f", bench client {client * each:.1f} ms (what runs after: the receipts)")
    print(f"{label}: pgbench -N (simple update), {clients} clients, same server: {tps:.0f} tps; "
          f"ratio {rate / tps:.3f} (target >= {TARGET}: "
          f"{'met' if rate / tps >= TARGET else 'MISSED'})", flush=True)
    return {"rate": rate, "tps": tps, "ratio": rate / tps, "cpu": cpu[0] * each,
            "postgres": postgres * each, "named": named * each, "machine": machine * each,
            "bad": doubles or failed or not delivered == queued == sent}


def main() -> None:
    import statistics

    parser = argparse.ArgumentParser(description="webhook posting vs pgbench")
    parser.add_argument("payments", nargs="?", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn sync workers (default: one per core)")
    parser.add_argument("--no-broker", action="store_true")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync",
                        help="gunicorn's worker class (gthread: the client keeps its "
                             "connections)")
    parser.add_argument("--threads", type=int, default=4, help="threads a gthread worker")
    parser.add_argument("--against", metavar="REV",
                        help="also measure REV (a temporary git worktree) in the same run")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--count", type=int, default=100,
                        help="payments posted in-process to count statements (0: skip)")
    parser.add_argument("--count-only", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.count_only:
        return _count(options.count_only)
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_payments")
    trees = {"new": ROOT}
    work = tempfile.mkdtemp(prefix="portal-webhooks-trees-")
    if options.against:
        # Migrations this tree adds are allowed (REV's code runs on the newer schema: an
        # added column with a default); any REV has that this tree lacks or changed are not.
        # Checked before the worktree is made, so refusing leaves nothing behind.
        if subprocess.run(["git", "-C", ROOT, "diff", "--name-only", "--diff-filter=a",
                           options.against, "--", "migrations"],
                          capture_output=True, text=True).stdout.strip():
            shutil.rmtree(work, ignore_errors=True)
            sys.exit(f"{options.against} has other migrations: the scratch database is made "
                     "by this tree's, so compare trees with the same schema (or older)")
        old = os.path.join(work, "old")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "--quiet", old,
                        options.against], check=True)
        trees = {"old": old, "new": ROOT}
    labels = {label: f"{label} ({_head(tree)})" for label, tree in trees.items()}
    results: dict = {}
    try:
        pybabel = os.path.join(BIN, "pybabel")
        for tree in trees.values():
            subprocess.run([pybabel, "-q", "compile", "-d", os.path.join(tree, "translations")],
                           check=True)
        if options.count:
            count_url = make_url(url).set(database=make_url(url).database + "_count")
            for label, tree in trees.items():
                out = subprocess.run(
                    [sys.executable, os.path.abspath(__file__), "--count-only",
                     str(options.count)], cwd=tree, capture_output=True, text=True,
                    env=dict(os.environ, PYTHONPATH=tree, BENCH_TREE=tree,
                             BENCH_DATABASE_URL=count_url
                             .render_as_string(hide_password=False)))
                if out.returncode:
                    sys.exit(f"in-process count failed:\n{out.stdout}{out.stderr}")
                for line in out.stdout.splitlines():
                    if line.startswith("COUNT "):
                        _, kind, how_many, statements, ms, cpu = line.split()
                        print(f"{labels[label]} in-process {kind.replace('/', ' ')} "
                              f"(x{how_many}): {statements} SQL statements, {float(ms):.1f} ms, "
                              f"Python CPU {float(cpu):.1f} ms (medians)", flush=True)
        for round_ in range(1, options.rounds + 1):
            order = list(trees) if round_ % 2 else list(reversed(trees))
            for label in order:
                results.setdefault(label, []).append(measure(
                    labels[label], trees[label], url, options.payments, options.clients,
                    options.workers, not options.no_broker, options.worker_class,
                    options.threads))
    finally:
        if options.against:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", trees["old"]])
        shutil.rmtree(work, ignore_errors=True)
    if len(results) > 1 or options.rounds > 1:
        print(f"summary, medians of {options.rounds} round(s), load {os.getloadavg()[0]:.1f}:")
        for label, got in results.items():
            print(f"  {labels[label]}: {statistics.median(g['rate'] for g in got):.0f} events/s, "
                  f"ratio {statistics.median(g['ratio'] for g in got):.3f}, gunicorn CPU "
                  f"{statistics.median(g['cpu'] for g in got):.1f} ms per delivery, "
                  f"PostgreSQL backends {statistics.median(g['postgres'] for g in got):.1f} ms, "
                  f"named parts {statistics.median(g['named'] for g in got):.1f} ms, "
                  f"machine {statistics.median(g['machine'] for g in got):.1f} ms")
    sys.exit(1 if any(g["bad"] for got in results.values() for g in got) else 0)


if __name__ == "__main__":
    main()
