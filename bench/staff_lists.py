"""Staff lists under load, side by side with a bare Flask route, in one run.

    .venv/bin/python bench/staff_lists.py                     # 100,000 rows a list, 5 s a point
    .venv/bin/python bench/staff_lists.py --duration 20 --deep-page 1000
    .venv/bin/python bench/staff_lists.py --rows 20000 --lists disputes,payments
    .venv/bin/python bench/staff_lists.py --keep --against 991968f   # that commit and this tree

Builds a scratch PostgreSQL database `bench_stafflists` (BENCH_ADMIN_URL names the server;
dropped and rebuilt) with this tree's migrations, then seeds in SQL (generate_series) ROWS
cardholders with one account and one statement each, ROWS open disputes spread over the
default queues, ROWS agreed plans (3 instalments each), ROWS proposals in review, ROWS
payments and ROWS accounts assigned to one collector. Staff members (a manager, an agent in
every queue, a collector) get session cookies signed with the servers' secret key, as a
browser holds them after the portal's sign-in (the TOTP step, `portal.auth.session`) and its
first page (with a CSRF token; `Cookies`).

It then starts gunicorn with 2 sync workers for the portal (PORTAL_ENV=development) and, in
the same run, gunicorn with 2 sync workers for a bare Flask app answering "ok", and runs wrk
at 16 and 64 connections against the bare route and against the first page and a deep page
of each list. Printed per point: req/s, p99, the ratio to the bare route at the same
connections (the issue's floor is 10%), and for each page the SQL statements one request
sends and the median wall and Python CPU time of one request in-process (Flask test client,
bench/staff_lists_probe.py in a fresh interpreter on the measured tree's code).

The deep page is the one each tree links to from the page before it: `page=N` in a tree that
pages by number, `after=<key>` in one that pages by key (the same rows either way).

With `--against REV`, REV is checked out in a temporary git worktree (removed afterwards) and
served by its own gunicorn on the same database (the schemas must match); the two trees
alternate at every point (old first at 16 connections, new first at 64).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

# bench/pages.py, beside this file: a tree's commit ("+changes" if dirty); REV checked out
from pages import _head, trees_for

SECRET_KEY = "bench-stafflists-secret-key"
FLOOR = 0.10
BARE_APP = '''from flask import Flask
app = Flask(__name__)


@app.get("/")
def ok():
    return "ok"
'''
# (name, staff member, path); the deep page is added with &page=N
LISTS = {
    "disputes": ("manager", "/staff/disputes/?view=queue"),
    "disputes-agent": ("agent", "/staff/disputes/?view=queue"),
    "agreed-plans": ("manager", "/staff/plans?status="),
    "proposals": ("manager", "/staff/plans/review?"),
    "payments": ("manager", "/staff/payments?"),
    "worklist": ("collector", "/staff/collections/my-accounts?"),
}


def admin_url() -> str:
    return os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")


def database_url(name: str) -> str:
    return admin_url().rsplit("/", 1)[0] + "/" + name


def recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def env_for(url: str, work: str) -> dict:
    instance = os.path.join(work, "instance")
    return {**os.environ, "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
            "PORTAL_ENV": "development", "SECRET_KEY": SECRET_KEY,
            "PORTAL_INSTANCE_PATH": instance, "OUTBOX_DIR": os.path.join(instance, "outbox"),
            "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://"}


SEED = """
INSERT INTO cardholder (customer_id, full_name, date_of_birth, locale, timezone, failed_logins,
                        created_at, updated_at, session_version)
SELECT 'B-' || g, 'Bench Holder ' || g, DATE '1985-03-14', 'en', 'UTC', 0, now(), now(), 0
FROM generate_series(1, {n}) g;

INSERT INTO account (account_number, card_last4, cardholder_id, currency, credit_limit,
                     policy_profile, status, minimum_due, oldest_unpaid_due_date, created_at)
SELECT '9' || lpad(g::text, 12, '0'), lpad((g % 10000)::text, 4, '0'), c.id,
       'USD', 500000, 'us', 'open', 5000 + g % 700, CURRENT_DATE - (1 + g % 200), now()
FROM generate_series(1, {n}) g JOIN cardholder c ON c.customer_id = 'B-' || g;

INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT id, 'statement_balance', 'principal', 200000 + id % 50000, 'USD',
       CURRENT_DATE - 230, 'bench-' || id, now()
FROM account;

INSERT INTO dispute (account_id, cardholder_id, category, status, currency, description,
                     language, queue_id, assignee_id, acknowledge_by, resolve_by,
                     acknowledged_at, created_at, updated_at, contested_amount)
SELECT a.id, a.cardholder_id, 'wrong_amount',
       (ARRAY['open', 'acknowledged', 'awaiting_customer', 'escalated'])[1 + a.id % 4],
       'USD', 'The fee is not right.', 'en',
       q.ids[1 + a.id % array_length(q.ids, 1)],
       CASE WHEN a.id % 3 = 0 THEN {agent} END,
       now() + (a.id % 5000 - 1000) * interval '1 minute',
       now() + (a.id % 9000) * interval '1 minute',
       CASE WHEN a.id % 4 IN (1, 2) THEN now() END, now(), now(), 1000
FROM account a,
     (SELECT array_agg(id ORDER BY id) AS ids FROM dispute_queue WHERE NOT managers_only) q;
UPDATE dispute SET sla_paused = (status = 'awaiting_customer'),
       sla_due_at = CASE WHEN acknowledged_at IS NULL THEN acknowledge_by ELSE resolve_by END;

INSERT INTO plan (account_id, status, source, kind, currency, instalment_count, frequency,
                  first_date, down_payment, balance_at_start, fees_waived, discount,
                  discount_percent, interest_mode, interest_added, total, policy_profile,
                  policy_version, stage, grace_days, created_at, accepted_at, started_on)
SELECT id, (ARRAY['active', 'completed', 'broken', 'cancelled'])[1 + id % 4], 'offer',
       'instalment', 'USD', 3, 'monthly', CURRENT_DATE - 20, 0, 30000, 0, 0, '0', 'frozen',
       0, 30000, 'us', 1, 'M1', 10, now(), now(), CURRENT_DATE - 20
FROM account;
INSERT INTO plan_instalment (plan_id, seq, due_date, amount, paid_amount, status)
SELECT p.id, s, p.first_date + (s - 1) * 30, 10000,
       CASE WHEN s = 1 THEN 10000 ELSE 0 END, CASE WHEN s = 1 THEN 'paid' ELSE 'due' END
FROM plan p, generate_series(1, 3) s;
INSERT INTO plan (account_id, status, source, kind, currency, instalment_count, frequency,
                  first_date, down_payment, balance_at_start, fees_waived, discount,
                  discount_percent, interest_mode, interest_added, total, policy_profile,
                  policy_version, stage, grace_days, created_at, accepted_at, required_role)
SELECT id, 'in_review', 'proposal', 'instalment', 'USD', 24, 'monthly', CURRENT_DATE + 7, 0,
       30000, 0, 0, '0', 'frozen', 0, 30000, 'us', 1, 'M1', 10, now(),
       now() - id * interval '1 second', 'collector'
FROM account;

INSERT INTO payment (account_id, choice, amount, currency, provider, idempotency_key, status,
                     off_session, refunded_amount, created_at, updated_at, refund_seq)
SELECT id, 'overdue', 1000 + id % 9000, 'USD', 'sandbox', 'bench-' || id,
       (ARRAY['succeeded', 'failed', 'processing', 'succeeded'])[1 + id % 4], false, 0,
       now() - id * interval '1 minute', now(), 0
FROM account;

INSERT INTO account_assignment (account_id, collector_id, assigned_by_id, assigned_at)
SELECT id, {collector}, {manager}, now() FROM account;
"""


def seed(url: str, rows: int, env: dict) -> dict[str, int]:
    """Migrations, staff and queues through the portal, then the rows in SQL. Returns the
    staff ids by name."""
    import psycopg

    subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi",
                    "db", "upgrade"], cwd=HERE, env=env, check=True, capture_output=True)
    staff = {}
    with psycopg.connect(url, autocommit=False) as conn:
        for name, roles in (("manager", ("collections_manager", "customer_service")),
                            ("agent", ("customer_service",)), ("collector", ("collector",))):
            staff[name] = conn.execute(
                "INSERT INTO staff_user (email, name, password_hash, totp_secret, active, "
                "failed_logins, created_at, session_version, locale) VALUES "
                "(%s, %s, 'x', 'JBSWY3DPEHPK3PXP', true, 0, now(), 0, 'en') RETURNING id",
                (f"{name}@bench.example", f"Bench {name}")).fetchone()[0]
            for role in roles:
                conn.execute("INSERT INTO staff_role (staff_id, role) VALUES (%s, %s)",
                             (staff[name], role))
        conn.commit()
    app = _app(env)
    with app.app_context():
        from portal.disputes.cli import setup_queues
        from portal.extensions import db

        setup_queues()  # default queues and rules; customer service joins each it may work
        db.session.commit()
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(SEED.format(n=int(rows), agent=int(staff["agent"]),
                                 collector=int(staff["collector"]),
                                 manager=int(staff["manager"])))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return staff


def _app(env: dict):
    os.environ.update(env)
    from portal import create_app

    return create_app()


class Cookies:
    """A signed session cookie per staff member, the session the sign-in leaves, signed anew
    by `fresh()` just before each wrk point: a browser takes the cookie a response sets when
    the session notes activity (every `LAST_SEEN_STEP` seconds), wrk cannot, so a cookie
    signed once at the start would make every request of a later point note activity and sign
    and send a new cookie, which no browser's requests do. The session carries a CSRF token,
    as a browser's does from its first page on (the sign-in leaves none; the first page that
    shows a form, every signed-in page with its sign-out button, adds one and sets a new
    cookie): without it every request would make a token and sign and send a new cookie. It
    also carries the identifier Flask-Login's session protection keeps at sign-in (`_id`: the
    address and User-Agent, here wrk's: 127.0.0.1 and none), without which every request
    would mark the session not fresh and again sign and send a new cookie."""

    def __init__(self, env: dict, staff: dict[str, int]):
        app = _app(env)
        from portal.extensions import db
        from portal.staff.models import StaffUser

        self._name = app.config.get("SESSION_COOKIE_NAME", "session")
        self._serializer = app.session_interface.get_signing_serializer(app)
        with app.app_context():
            self._users = {who: (user.get_id(), user.session_version) for who, user in
                           ((who, db.session.get(StaffUser, staff_id))
                            for who, staff_id in staff.items())}
        # the raw token Flask-WTF keeps in a session (a random SHA-1 hex), one per member
        self._csrf = {who: hashlib.sha1(os.urandom(64)).hexdigest() for who in staff}
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            self._identifier = app.login_manager._session_identifier_generator()

    def fresh(self) -> dict[str, str]:
        from portal.timeutil import utcnow

        now = utcnow().timestamp()
        return {who: f"{self._name}=" + self._serializer.dumps({
            "_user_id": user_id, "_fresh": True, "sid": f"bench-{who}", "sv": version,
            "started": now, "last_seen": now, "csrf_token": self._csrf[who],
            "_id": self._identifier})
            for who, (user_id, version) in self._users.items()}


def cookies(env: dict, staff: dict[str, int]) -> dict[str, str]:
    """A signed session cookie per staff member, signed now (`Cookies`)."""
    return Cookies(env, staff).fresh()


def probe(tree: str, env: dict, cookie: dict[str, str], points, deep_page: int, work: str,
          requests: int) -> dict:
    """bench/staff_lists_probe.py on `tree`'s code: statements, in-process time and the deep
    page's path per point."""
    spec = {"cookies": cookie, "requests": requests, "points": []}
    for label, who, path, deep in points:
        sep = "" if path.endswith("?") else "&"
        spec["points"].append([label, who, path, f"{path}{sep}page={deep_page - 1}" if deep
                               else None])
    name = os.path.join(work, f"probe-{os.path.basename(tree)}.json")
    with open(name, "w") as f:
        json.dump(spec, f)
    done = subprocess.run([sys.executable, os.path.join(HERE, "bench", "staff_lists_probe.py"),
                           name], env={**env, "PYTHONPATH": tree}, cwd=tree, capture_output=True,
                          text=True)
    if done.returncode:
        sys.exit(f"probe of {tree} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# BENCH_PORTS="5821-5829": the servers take these ports in turn (on a shared machine each
# user has a range); unset, any free port.
_RANGE = os.environ.get("BENCH_PORTS", "")
_PORTS = iter(range(int(_RANGE.split("-")[0]), int(_RANGE.split("-")[-1]) + 1)) if _RANGE else None


def _next_port() -> int:
    return next(_PORTS) if _PORTS is not None else _free_port()


class Server:
    """gunicorn with 2 sync workers on a free port of 127.0.0.1."""

    def __init__(self, app: str, cwd: str, env: dict):
        env = {**env, "PYTHONPATH": cwd}  # this tree's code, not the installed checkout's
        self.port = _next_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b",
             f"127.0.0.1:{self.port}", "--chdir", cwd, "--log-level", "warning",
             "--timeout", "60", app], env=env, cwd=cwd)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit(f"{app}: gunicorn did not answer")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def settle(port: int, seconds: float = 60) -> None:
    """Wait until the server answers at once again: sync workers still serve the requests a
    previous point left queued, which would otherwise count against the next one."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10):
                pass
        except (OSError, urllib.error.HTTPError):
            pass
        if time.perf_counter() - started < 0.5:
            return
        time.sleep(0.5)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


# Counts answers other than 200 (wrk itself does not count a redirect to the sign-in page).
LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0; seen = 0 end
function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1; seen = status end
end
function done(summary, latency, requests)
  local total, status = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("not_ok")
    if t:get("seen") ~= 0 then status = t:get("seen") end
  end
  io.write("NOT200 " .. total .. " " .. status .. "\\n")
end
"""


def wrk(port: int, path: str, cookie: str | None, connections: int, duration: int,
        script: str) -> dict:
    command = ["/usr/bin/wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s",
               "--timeout", "10s", "--latency", "-s", script]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"NOT200 (\d+) (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p99": p99, "bad": int(bad.group(1)) if bad else 0,
            "status": bad.group(2) if bad else "",
            "errors": errors.group(1) if errors else ""}


def sets_cookie(port: int, path: str, cookie: str) -> bool:
    """Whether the page answers the bench's session cookie with a new one (as wrk sends it:
    no User-Agent). It should not: a browser's session has its CSRF token and Flask-Login's
    identifier after its first page, so only noting activity (every 30 s) signs a new cookie."""
    ask = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
    ask.remove_header("User-agent")
    opener = urllib.request.build_opener()
    opener.addheaders = []  # urllib's default User-Agent would change Flask-Login's identifier
    with opener.open(ask, timeout=30) as answer:
        return answer.headers.get("Set-Cookie") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in each list")
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per point")
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--deep-page", type=int, default=1000,
                        help="the deep page measured beside page 1 (50 rows a page)")
    parser.add_argument("--lists", default=",".join(LISTS), help="which lists, comma-separated")
    parser.add_argument("--database", default="bench_stafflists")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded database")
    parser.add_argument("--against", metavar="REV",
                        help="also measure REV (a temporary git worktree) in the same run")
    parser.add_argument("--requests", type=int, default=30,
                        help="requests per page timed in-process (median)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="portal-bench-stafflists-")
    url = database_url(args.database)
    env = env_for(url, work)
    # portal.config reads the environment when first imported: set it before any import
    os.environ.update(env)
    trees = trees_for(args.against, work)
    servers: list[Server] = []
    try:
        for tree in trees.values():
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "-q",
                            "compile", "-d", os.path.join(tree, "translations")], check=True)
        started = time.perf_counter()
        if args.keep:
            import psycopg
            with psycopg.connect(url) as conn:
                staff = dict(conn.execute(
                    "SELECT split_part(email, '@', 1), id FROM staff_user "
                    "WHERE email LIKE '%%@bench.example'").fetchall())
        else:
            recreate(args.database)
            staff = seed(url, args.rows, env)
            print(f"seeded {args.rows:,} rows a list in {time.perf_counter() - started:.0f} s",
                  flush=True)
        signer = Cookies(env, staff)
        cookie = signer.fresh()
        points = []
        for name in args.lists.split(","):
            who, path = LISTS[name]
            points.append((f"{name} p1", who, path, False))
            points.append((f"{name} p{args.deep_page}", who, path, True))
        probed = {}
        for label, tree in trees.items():
            probed[label] = probe(tree, env, cookie, points, args.deep_page, work, args.requests)
            print(f"{label} = {_head(tree)}, in-process (median of {args.requests} requests):")
            for point, got in probed[label].items():
                print(f"  {point:<22} {got['statements']:>2} SQL, {got['wall_ms']:6.1f} ms wall,"
                      f" {got['cpu_ms']:6.1f} ms Python CPU  {got['path']}", flush=True)
        with open(os.path.join(work, "bare_ok.py"), "w") as f:
            f.write(BARE_APP)
        script = os.path.join(work, "count.lua")
        with open(script, "w") as f:
            f.write(LUA)
        print(f"load average before: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
        bare = Server("bare_ok:app", work, dict(os.environ))
        servers.append(bare)
        portal = {}
        for label, tree in trees.items():
            portal[label] = Server("wsgi:app", tree, env_for(url, os.path.join(work, label)))
            servers.append(portal[label])
        fresh = signer.fresh()
        for label, who, _path, _deep in points:
            for tree in trees:
                if sets_cookie(portal[tree].port, probed[tree][label]["path"], fresh[who]):
                    print(f"note: {tree}'s {label} sets a new session cookie on every request "
                          "of this bench (a browser's would not)", flush=True)
        print(f"{'page':<26} {'tree':>4} {'conns':>5} {'req/s':>8} {'p99 ms':>8} "
              f"{'bare req/s':>10} {'ratio':>6} {'SQL':>4}  verdict")
        summary: dict = {}
        for n, connections in enumerate(int(c) for c in args.connections.split(",")):
            floor = wrk(bare.port, "/", None, connections, args.duration, script)
            print(f"{'bare ok':<26} {'':>4} {connections:>5} {floor['rps']:>8.0f} "
                  f"{floor['p99']:>8.1f}", flush=True)
            order = list(trees) if n % 2 == 0 else list(reversed(trees))
            for label, who, _path, _deep in points:
                for tree in order:
                    settle(portal[tree].port)
                    got = wrk(portal[tree].port, probed[tree][label]["path"], signer.fresh()[who],
                              connections, args.duration, script)
                    ratio = got["rps"] / floor["rps"]
                    summary[(label, connections, tree)] = got["rps"]
                    verdict = "met" if ratio >= FLOOR else f"SHORT by {FLOOR - ratio:.1%}"
                    trouble = (f"; {got['bad']} answers not 200 (e.g. {got['status']})"
                               if got["bad"] else "") + (
                        f"; socket errors {got['errors']}" if got["errors"] else "")
                    print(f"{label:<26} {tree:>4} {connections:>5} {got['rps']:>8.0f} "
                          f"{got['p99']:>8.1f} {floor['rps']:>10.0f} {ratio:>6.3f} "
                          f"{probed[tree][label]['statements']:>4}  10% floor {verdict}{trouble}",
                          flush=True)
        if args.against:
            print("new/old req/s: " + ", ".join(
                f"{label} {c}: {summary[(label, c, 'new')] / max(summary[(label, c, 'old')], 0.1):.2f}"
                for (label, c, tree) in summary if tree == "new"))
            print("new/old Python CPU in-process: " + ", ".join(
                f"{label}: {probed['new'][label]['cpu_ms'] / probed['old'][label]['cpu_ms']:.2f}"
                for label in probed["new"]))
    finally:
        for server in servers:
            server.stop()
        if args.against:
            subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", trees["old"]])
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
