"""Time the nightly run over N accounts on PostgreSQL.

    .venv/bin/python bench/nightly.py [--accounts 100000] [--batch-size 1000]
    .venv/bin/python bench/nightly.py --against 557ce7e --accounts 5000 --rounds 3
    .venv/bin/python bench/nightly.py --processes 2 --accounts 20000 --rounds 3

Uses DATABASE_URL, or creates a scratch database `portal_bench` (`--database NAME`) on
postgresql://postgres@127.0.0.1 (BENCH_ADMIN_URL to change); with --against or --processes
`--database` is the prefix of the run's scratch databases. The database is dropped and
rebuilt from the migrations, filled with COPY, then the nightly run is timed for one day and
run a second time (which must find nothing to do).

With `--against REV` the code at REV (checked out into a temporary git worktree) and this
tree are measured side by side in one run: each is seeded once with the same accounts (its
own migrations, then this file's COPY), and every round copies each seed afresh (`CREATE
DATABASE ... TEMPLATE`) and times one nightly run per tree, in a fresh interpreter, the order
alternating between rounds; a first round warms up (modules compiled, caches filled) and is not
counted. It prints every rate, the ratio new/old of the medians and of the
best runs (the best is the least disturbed by other work on a shared machine) and whether it is
within 10%, and the CPU time the run used in Python and in its PostgreSQL server processes
(read from /proc, so the database must be on this host): other load on a shared machine
stretches the clock far more than it changes the CPU a run needs.

With `--processes N` one process and N processes (each a whole `run_nightly` for the same day,
sharing the accounts through FOR UPDATE SKIP LOCKED, as `flask jobs nightly` started N times)
run on fresh copies of one seed, alternating; the processes start together once their apps
are built. It prints the time of each, the speed-up (issue 15: at least 1.5x with 2 processes
on the 2-core machine) and how many accounts more than one process claimed (must be 0), the
CPU the processes used (Python and PostgreSQL), what their server processes waited for
(sampled every 10 ms) and `audit verify` of the run's database. Each process starts in a
session of its own, as separately started commands and workers do: Linux's autogroup
scheduling shares the CPU of a loaded machine between sessions, so two processes of one
session get about one's share (`--one-session` measures that). With `--against REV` as well,
REV's code (each tree seeded by its own migrations) and this tree's run in every round, the
trees' order alternating, and the speed-ups are compared.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tree whose `portal` is measured: this one, or (a child of --against) the other one.
sys.path.insert(0, os.environ.get("BENCH_TREE") or HERE)

AS_OF = date(2026, 12, 1)


def admin_url() -> str:
    return os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")


def scratch_url(name: str = "portal_bench", template: str | None = None) -> str:
    """A fresh database `name` on the admin server (a copy of `template` if given)."""
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return admin_url().rsplit("/", 1)[0] + "/" + name


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy(conn, table, columns, rows):
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build(engine, n: int, contesting: float = 0.0) -> None:
    """N cardholders, N accounts (days late spread over 0..200) and their opening balances;
    with `contesting` > 0, that share of accounts has an open dispute contesting part of the
    debt (a collection hold: the disputes pause provider answers for them every night)."""
    rnd = random.Random(42)
    feed = AS_OF - timedelta(days=1)
    now = "2026-11-30 00:00:00+00"
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        _copy(conn, "cardholder", ["id", "customer_id", "full_name", "date_of_birth", "phone",
                                   "email", "locale", "timezone", "failed_logins", "created_at",
                                   "updated_at"],
              ((i, f"B{i:08d}", f"Bench {i}", date(1980, 1, 1), f"+86139{i:08d}",
                f"b{i}@example.com", "zh_Hans" if i % 2 else "en",
                "Asia/Shanghai" if i % 2 else "America/New_York", 0, now, now)
               for i in range(1, n + 1)))
        accounts = []
        for i in range(1, n + 1):
            profile = "cn" if i % 2 else "us"
            late = rnd.randint(0, 200)
            accounts.append((i, f"9{i:011d}", "4242", i, "CNY" if profile == "cn" else "USD",
                             2_000_000, profile, "open", rnd.randint(1_000, 80_000),
                             feed - timedelta(days=late), feed, now))
        _copy(conn, "account", ["id", "account_number", "card_last4", "cardholder_id",
                                "currency", "credit_limit", "policy_profile", "status",
                                "minimum_due", "oldest_unpaid_due_date", "feed_as_of",
                                "created_at"], accounts)
        _copy(conn, "ledger_entry", ["account_id", "kind", "component", "amount", "currency",
                                     "effective_date", "source_ref", "posted_at"],
              ((a[0], "statement_balance", "principal", rnd.randint(50_000, 2_000_000), a[4],
                feed, "bench:opening", now) for a in accounts))
        every = round(1 / contesting) if contesting > 0 else 0
        if every:
            conn.execute("INSERT INTO dispute_queue (id, code, managers_only) "
                         "VALUES (9001, 'bench', false) ON CONFLICT DO NOTHING")
            _copy(conn, "dispute", ["account_id", "cardholder_id", "category", "status",
                                    "contested_amount", "currency", "description", "language",
                                    "queue_id", "acknowledge_by", "resolve_by", "created_at",
                                    "updated_at"],
                  ((a[0], a[3], "already_paid", "acknowledged", 10_000, a[4], "bench", "en",
                    9001, "2026-12-30 00:00:00+00", "2027-01-30 00:00:00+00", now, now)
                   for a in accounts[::every]))
        for table in ("cardholder", "account"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        raw.close()


def _app(without_pause_providers: bool):
    from portal import create_app

    app = create_app()
    if without_pause_providers:
        from portal.consequences import pauses

        pauses._providers.clear()
    # As wsgi.py (and so `flask --app wsgi jobs nightly`) and worker.py do: the heap built at
    # start is kept out of the cyclic collector's full passes (15-25% of a nightly process's
    # CPU otherwise, bench/README.md), so the bench's processes run as the commands do.
    gc.freeze()
    return app


def _child_env(tree: str, url: str, label: str, work: str) -> dict:
    instance = os.path.join(work, f"instance-{label}")  # removed with the run's work directory
    return {**os.environ, "BENCH_TREE": tree, "DATABASE_URL": url,
            "PORTAL_INSTANCE_PATH": instance, "OUTBOX_DIR": os.path.join(instance, "outbox")}


def _child(step: str, tree: str, url: str, label: str, work: str, args) -> str:
    """Run this file's `--child STEP` in a fresh interpreter on `tree`'s code; its output."""
    command = [sys.executable, os.path.abspath(__file__), "--child", step,
               "--accounts", str(args.accounts), "--batch-size", str(args.batch_size),
               "--contesting-share", str(args.contesting_share)]
    if args.without_pause_providers:
        command.append("--without-pause-providers")
    done = subprocess.run(command, env=_child_env(tree, url, label, work), capture_output=True,
                          text=True, cwd=tree)
    if done.returncode:
        sys.exit(f"{label} {step} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def child(step: str, args) -> None:
    """One step of a side-by-side run, inside the child: seed, or time one nightly run."""
    import portal

    tree = os.path.realpath(os.environ["BENCH_TREE"])
    if not os.path.realpath(portal.__file__).startswith(tree + os.sep):
        sys.exit(f"portal was imported from {portal.__file__}, not from {tree}")
    from flask_migrate import upgrade
    from sqlalchemy import event

    from portal.extensions import db
    from portal.jobs.nightly import run_nightly

    app = _app(args.without_pause_providers)
    with app.app_context():
        if step == "seed":
            upgrade(directory=os.path.join(tree, "migrations"), revision="heads")
            build(db.engine, args.accounts, args.contesting_share)
            return
        statements, backends = [], {}
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
        db.engine.dispose()  # the run's connections are new: their server processes are known

        @event.listens_for(db.engine, "connect")
        def _backend(dbapi_connection, record):
            pid = dbapi_connection.execute("SELECT pg_backend_pid()").fetchone()[0]
            backends[pid] = _cpu_ticks(pid)

        started, cpu = time.perf_counter(), time.process_time()
        summary = run_nightly(AS_OF, batch_size=args.batch_size)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        server = sum(_cpu_ticks(pid) - ticks for pid, ticks in backends.items())
        print(f"RESULT {elapsed:.6f} {cpu:.6f} {server / os.sysconf('SC_CLK_TCK'):.6f} "
              f"{len(statements)} {summary.line()}")


def _cpu_ticks(pid: int) -> int:
    """CPU time (user + system, clock ticks) of a process on this host; 0 if unreadable (a
    database on another host: its share is then not counted)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def against(rev: str, args) -> None:
    """Measure REV and this tree side by side (see the module's docstring)."""
    work = tempfile.mkdtemp(prefix="portal-bench-")
    old_tree = os.path.join(work, "old")
    subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", "--quiet", old_tree, rev],
                   check=True)
    commit = subprocess.run(["git", "-C", old_tree, "rev-parse", "--short", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    trees = {"old": old_tree, "new": HERE}
    new_head = _head()  # as measured: the tree may be committed to while this runs
    prefix = args.database or f"portal_bench_{os.getpid()}"  # scratch databases of this run only
    try:
        for tree in trees.values():  # letters render with the catalogues, as in production
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "-q",
                            "compile", "-d", os.path.join(tree, "translations")], check=True)
        for label, tree in trees.items():
            started = time.perf_counter()
            _child("seed", tree, scratch_url(f"{prefix}_{label}_seed"), label, work, args)
            print(f"{label}: seeded {args.accounts:,} accounts in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        rates: dict[str, list[float]] = {"old": [], "new": []}
        cpu: dict[str, list[float]] = {"old": [], "new": []}
        for round_ in range(0, args.rounds + 1):  # round 0 warms up: not counted
            order = ("old", "new") if round_ % 2 else ("new", "old")
            for label in order:
                url = scratch_url(f"{prefix}_{label}", template=f"{prefix}_{label}_seed")
                out = _child("run", trees[label], url, label, work, args)
                seconds, python, server, count, line = out.split("RESULT ", 1)[1].split(" ", 4)
                if round_:
                    rates[label].append(args.accounts / float(seconds))
                    cpu[label].append(float(python) + float(server))
                print(f"round {round_ or 'warm-up'} {label:>3}: {float(seconds):6.2f} s, "
                      f"{args.accounts / float(seconds):8,.0f} accounts/s; "
                      f"CPU: Python {float(python):.2f} s, "
                      f"PostgreSQL {float(server):.2f} s; {int(count):,} SQL statements; "
                      f"{line.strip()}", flush=True)
                drop(f"{prefix}_{label}")
        print(f"old = {rev} ({commit}), new = {new_head}; {args.accounts:,} accounts, "
              f"{args.rounds} rounds")
        for name, pick in (("median", statistics.median), ("best", max)):
            old, new = pick(rates["old"]), pick(rates["new"])
            print(f"{name:>6}: old {old:8,.0f} accounts/s, new {new:8,.0f} accounts/s, "
                  f"new/old {new / old:.2f}: "
                  + ("within 10%" if new / old >= 0.9 else "SLOWER than 0.9x: profile it"))
        pairs = ", ".join(f"{n / o:.2f}" for o, n in zip(rates["old"], rates["new"]))
        by_cpu = statistics.median(cpu["old"]) / statistics.median(cpu["new"])
        print(f"per round new/old: {pairs}")
        print(f"CPU (Python + PostgreSQL, median): old {statistics.median(cpu['old']):.2f} s, "
              f"new {statistics.median(cpu['new']):.2f} s; rate by CPU new/old {by_cpu:.2f}: "
              + ("within 10%" if by_cpu >= 0.9 else "SLOWER than 0.9x: profile it"))
    finally:
        for label in trees:
            drop(f"{prefix}_{label}_seed")
        subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", old_tree])
        shutil.rmtree(work, ignore_errors=True)


def claims_child(args) -> None:
    """`--child claims`: one of several processes of a run. Builds the app, says READY, waits
    for a line on stdin, runs the nightly run and prints when it started and ended (epoch
    seconds), the CPU it used in Python and in its PostgreSQL server processes, and the
    accounts it claimed, so the parent times the processes together."""
    import json

    from sqlalchemy import event

    from portal.extensions import db
    from portal.jobs.nightly import run_nightly

    app = _app(args.without_pause_providers)
    with app.app_context():
        claimed: list[int] = []
        backends: dict[int, int] = {}
        db.engine.dispose()  # the run's connections are new: their server processes are known

        @event.listens_for(db.engine, "connect")
        def _backend(dbapi_connection, record):
            pid = dbapi_connection.execute("SELECT pg_backend_pid()").fetchone()[0]
            backends[pid] = _cpu_ticks(pid)

        print("READY", flush=True)
        sys.stdin.readline()
        started, cpu = time.time(), time.process_time()
        summary = run_nightly(AS_OF, batch_size=args.batch_size, on_claim=claimed.extend)
        ended, cpu = time.time(), time.process_time() - cpu
        server = sum(_cpu_ticks(pid) - ticks for pid, ticks in backends.items())
        print(f"RESULT {started:.6f} {ended:.6f} {cpu:.3f} "
              f"{server / os.sysconf('SC_CLK_TCK'):.3f} {json.dumps(claimed)} {summary.line()}",
              flush=True)


class _Waits:
    """Samples, every 10 ms while the processes run, what the run database's server processes
    wait for (pg_stat_activity): a process queued on a lock another holds shows as `Lock`."""

    def __init__(self, database: str):
        import threading
        from collections import Counter

        self.database, self.counts, self.samples = database, Counter(), 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(admin_url(), autocommit=True) as conn:
            while not self.stop.wait(0.01):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend'",
                    (self.database,)).fetchall()
                for state, kind, name in rows:
                    self.samples += 1
                    if state == "active":
                        self.counts[f"{kind}:{name}" if kind else "running"] += 1

    def line(self) -> str:
        self.stop.set()
        self.thread.join()
        locks = sum(v for k, v in self.counts.items() if k.startswith("Lock:"))
        top = ", ".join(f"{k} {v}" for k, v in self.counts.most_common(4))
        return (f"server samples {self.samples}: waiting on a lock {locks}; "
                f"active: {top or 'none'}")


def _together(n: int, url: str, work: str, args, tree: str = HERE) -> tuple[float, float, list[list[int]], list[str]]:
    """Run the nightly run in `n` processes at once on `url`: (seconds from the first start to
    the last end, CPU seconds used in Python and PostgreSQL, each process's claims, each
    process's summary line). Each process is started in a session of its own, as separately
    started commands or workers are: with the kernel's autogroup scheduling (Linux default)
    the processes of one session share one group's CPU, so on a loaded machine two processes
    of one session get no more CPU than one (`--one-session` measures that)."""
    import json

    command = [sys.executable, os.path.abspath(__file__), "--child", "claims",
               "--batch-size", str(args.batch_size)]
    if args.without_pause_providers:
        command.append("--without-pause-providers")
    children = [subprocess.Popen(command, env=_child_env(tree, url, f"p{i}", work), text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tree,
                                 start_new_session=not args.one_session)
                for i in range(n)]
    for child_ in children:
        if child_.stdout.readline().strip() != "READY":
            sys.exit("a nightly process did not start")
    waits = _Waits(url.rsplit("/", 1)[1])
    for child_ in children:  # as close together as the parent can
        child_.stdin.write("go\n")
        child_.stdin.flush()
    starts, ends, cpu, claims, lines = [], [], 0.0, [], []
    for child_ in children:
        out, _ = child_.communicate()
        if child_.returncode or "RESULT " not in out:
            sys.exit(f"a nightly process failed:\n{out}")
        started, ended, python, server, rest = out.split("RESULT ", 1)[1].split(" ", 4)
        claimed, end = json.JSONDecoder().raw_decode(rest)
        line = rest[end:]
        starts.append(float(started))
        ends.append(float(ended))
        cpu += float(python) + float(server)
        claims.append(claimed)
        lines.append(line.strip())
    lines.append(waits.line())
    if n > 1:  # a process idle at the end (a last batch of the other's) shows here
        lines.append(f"the processes ended {max(ends) - min(ends):.2f} s apart")
    return max(ends) - min(starts), cpu, claims, lines


def _verify_audit(url: str) -> str:
    """`flask audit verify` on the run's database: the batches' audit events must chain."""
    from sqlalchemy import text

    from portal.audit.services import verify_chain
    from portal.extensions import db

    os.environ["DATABASE_URL"] = url

    app = _app(False)
    with app.app_context():
        checked, broken = verify_chain()
        streams = db.session.scalars(text("SELECT DISTINCT stream FROM audit_event "
                                          "WHERE action = 'nightly.batch' ORDER BY 1")).all()
        db.engine.dispose()
    if broken:
        sys.exit(f"audit verify: BROKEN: {broken.reason}")
    return f"audit verify: {checked} events intact, nightly.batch in {', '.join(streams)}"


def processes(args) -> None:
    """1 process against `args.processes` processes on copies of one seed, alternating; with
    `--against REV`, REV's code and this tree's in every round (tree order alternating)."""
    from collections import Counter

    work = tempfile.mkdtemp(prefix="portal-bench-")
    prefix = args.database or f"portal_bench_processes_{os.getpid()}"
    trees = {"new": HERE}
    if args.against:
        trees = {"old": os.path.join(work, "old"), "new": HERE}
        subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", "--quiet",
                        trees["old"], args.against], check=True)
    many = args.processes
    try:
        for label, tree in trees.items():
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "-q",
                            "compile", "-d", os.path.join(tree, "translations")], check=True)
            _child("seed", tree, scratch_url(f"{prefix}_{label}_seed"), label, work, args)
        print(f"seeded {args.accounts:,} accounts", flush=True)
        times = {label: {1: [], many: []} for label in trees}
        for round_ in range(args.rounds):
            labels = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for label in labels:
                for n in ((1, many) if round_ % 2 == 0 else (many, 1)):
                    url = scratch_url(f"{prefix}_run", template=f"{prefix}_{label}_seed")
                    seconds, cpu, claims, lines = _together(n, url, work, args, trees[label])
                    checked = _verify_audit(url) if n > 1 else ""
                    drop(f"{prefix}_run")
                    counted = Counter(i for claimed in claims for i in claimed)
                    twice = sum(1 for c in counted.values() if c > 1)
                    times[label][n].append(seconds)
                    print(f"round {round_ + 1}, {label}, {n} process{'es' if n > 1 else ''}: "
                          f"{seconds:6.2f} s, {args.accounts / seconds:7,.0f} accounts/s, "
                          f"CPU {cpu:5.2f} s (Python and PostgreSQL: {cpu / seconds:.2f} "
                          f"cores); claims per process {[len(c) for c in claims]}, accounts "
                          f"claimed by more than one: {twice}; " + " | ".join(lines)
                          + (f"; {checked}" if checked else ""), flush=True)
        speed = {}
        for label in trees:
            one, more = statistics.median(times[label][1]), statistics.median(times[label][many])
            rounds = [a / b for a, b in zip(times[label][1], times[label][many])]
            speed[label] = statistics.median(rounds)
            print(f"{label}: speed-up of {many} processes over 1: median {one / more:.2f}x (per "
                  f"round {', '.join(f'{r:.2f}' for r in rounds)}; their median "
                  f"{speed[label]:.2f}x): "
                  + ("at least 1.5x" if one / more >= 1.5 else "LESS than 1.5x"))
        if args.against:
            print(f"old = {args.against}, new = {_head()}: speed-up new/old (median of rounds) "
                  f"{speed['new'] / speed['old']:.2f}")
    finally:
        drop(f"{prefix}_run")
        for label in trees:
            drop(f"{prefix}_{label}_seed")
        if args.against:
            subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", trees["old"]])
        shutil.rmtree(work, ignore_errors=True)


def _head() -> str:
    head = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head + ("+changes" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--contesting-share", type=float, default=0.0,
                        help="share of accounts with an open contesting dispute (e.g. 0.1)")
    parser.add_argument("--without-pause-providers", action="store_true",
                        help="measure the run's own cost: ask no pause provider")
    parser.add_argument("--against", metavar="REV", nargs="?", const="557ce7e", default=None,
                        help="measure REV (default 557ce7e, issue 11's base) and this tree "
                             "side by side in one run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --against or --processes: rounds, alternating (default 3)")
    parser.add_argument("--processes", type=int, nargs="?", const=2, default=None,
                        help="time 1 process against N (default 2) side by side, and count "
                             "the accounts claimed by more than one (with --against: both "
                             "trees in every round)")
    parser.add_argument("--one-session", action="store_true",
                        help="with --processes: start the processes in the bench's own session "
                             "(one autogroup: on a loaded machine they share one CPU share)")
    parser.add_argument("--database", metavar="NAME",
                        help="name (with --against or --processes: prefix) of the scratch "
                             "databases, default portal_bench (portal_bench_<pid>...)")
    parser.add_argument("--child", choices=("seed", "run", "claims"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "claims":
        claims_child(args)
        return
    if args.child:
        child(args.child, args)
        return
    if args.processes:
        processes(args)
        return
    if args.against:
        against(args.against, args)
        return
    url = os.environ.get("DATABASE_URL") or scratch_url(args.database or "portal_bench")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_INSTANCE_PATH", "/tmp/portal-bench-instance")
    os.environ.setdefault("OUTBOX_DIR", "/tmp/portal-bench-instance/outbox")

    from flask_migrate import upgrade

    from portal.extensions import db
    from portal.jobs.nightly import run_nightly

    app = _app(args.without_pause_providers)
    with app.app_context():
        upgrade(revision="heads")
        started = time.perf_counter()
        build(db.engine, args.accounts, args.contesting_share)
        print(f"built {args.accounts} accounts in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        first = run_nightly(AS_OF, batch_size=args.batch_size)
        elapsed = time.perf_counter() - started
        print(f"nightly run: {elapsed:.1f} s; {first.line()}")
        rate = args.accounts / elapsed
        print(f"{rate:,.0f} accounts per second; 1,000,000 accounts would take "
              f"{1_000_000 / rate / 60:.1f} minutes")
        started = time.perf_counter()
        second = run_nightly(AS_OF, batch_size=args.batch_size)
        print(f"second run (idempotent): {time.perf_counter() - started:.2f} s; {second.line()}")


if __name__ == "__main__":
    main()
