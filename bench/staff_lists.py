"""Staff lists under load, side by side with a bare Flask route, in one run.

    .venv/bin/python bench/staff_lists.py                     # 100,000 rows a list, 5 s a point
    .venv/bin/python bench/staff_lists.py --duration 20 --deep-page 1000
    .venv/bin/python bench/staff_lists.py --rows 20000 --lists disputes,payments

Builds a scratch PostgreSQL database `bench_stafflists` (BENCH_ADMIN_URL names the server;
dropped and rebuilt) with this tree's migrations, then seeds in SQL (generate_series) ROWS
cardholders with one account and one statement each, ROWS open disputes spread over the
default queues, ROWS agreed plans (3 instalments each), ROWS proposals in review, ROWS
payments and ROWS accounts assigned to one collector. Staff members (a manager, an agent in
every queue, a collector) get session cookies signed with the servers' secret key, exactly as
the portal's own sign-in leaves them after the TOTP step (`portal.auth.session`).

It then starts gunicorn with 2 sync workers for the portal (PORTAL_ENV=development) and, in
the same run, gunicorn with 2 sync workers for a bare Flask app answering "ok", and runs wrk
at 16 and 64 connections against the bare route and against the first page and a deep page
of each list. Printed per point: req/s, p99, the ratio to the bare route at the same
connections (the issue's floor is 10%), and for each page the SQL statements one request
sends (counted in-process, before_cursor_execute).
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

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


def cookies(env: dict, staff: dict[str, int]) -> dict[str, str]:
    """A signed session cookie per staff member, the session the sign-in leaves."""
    app = _app(env)
    from portal.extensions import db
    from portal.staff.models import StaffUser
    from portal.timeutil import utcnow

    name = app.config.get("SESSION_COOKIE_NAME", "session")
    serializer = app.session_interface.get_signing_serializer(app)
    found = {}
    with app.app_context():
        for who, staff_id in staff.items():
            user = db.session.get(StaffUser, staff_id)
            now = utcnow().timestamp()
            found[who] = f"{name}=" + serializer.dumps({
                "_user_id": user.get_id(), "_fresh": True, "sid": f"bench-{who}",
                "sv": user.session_version, "started": now, "last_seen": now})
    return found


def count_statements(env: dict, cookie: dict[str, str], paths: list[tuple[str, str, str]]):
    """SQL statements of one request to each page, in-process."""
    from sqlalchemy import event

    from portal.extensions import db

    app = _app(env)
    if app.config["SECRET_KEY"] != SECRET_KEY:
        sys.exit("the portal was configured before the bench's environment was set")
    seen: list[str] = []
    result = {}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    for label, who, path in paths:
        client = app.test_client()
        client.set_cookie(*cookie[who].split("=", 1), domain="localhost")
        if client.get(path).status_code != 200:
            sys.exit(f"{path} did not answer 200 in-process")
        seen.clear()
        client.get(path)
        result[label] = len(seen)
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a free port of 127.0.0.1."""

    def __init__(self, app: str, cwd: str, env: dict):
        self.port = _free_port()
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
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="portal-bench-stafflists-")
    url = database_url(args.database)
    env = env_for(url, work)
    # portal.config reads the environment when first imported: set it before any import
    os.environ.update(env)
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "-q", "compile",
                    "-d", os.path.join(HERE, "translations")], check=True)
    started = time.perf_counter()
    if args.keep:
        import psycopg
        with psycopg.connect(url) as conn:
            staff = dict(conn.execute("SELECT split_part(email, '@', 1), id FROM staff_user "
                                      "WHERE email LIKE '%%@bench.example'").fetchall())
    else:
        recreate(args.database)
        staff = seed(url, args.rows, env)
        print(f"seeded {args.rows:,} rows a list in {time.perf_counter() - started:.0f} s",
              flush=True)
    cookie = cookies(env, staff)
    points = []
    for name in args.lists.split(","):
        who, path = LISTS[name]
        sep = "" if path.endswith(("?", "=")) else "&"
        points.append((f"{name} p1", who, path))
        points.append((f"{name} p{args.deep_page}", who, f"{path}{sep}page={args.deep_page}"))
    statements = count_statements(env, cookie, points)
    with open(os.path.join(work, "bare_ok.py"), "w") as f:
        f.write(BARE_APP)
    script = os.path.join(work, "count.lua")
    with open(script, "w") as f:
        f.write(LUA)
    print(f"load average before: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
    bare = Server("bare_ok:app", work, {**os.environ, "PYTHONPATH": work})
    portal = Server("wsgi:app", HERE, env)
    print(f"{'page':<26} {'conns':>5} {'req/s':>8} {'p99 ms':>8} {'bare req/s':>10} "
          f"{'ratio':>6} {'SQL':>4}  verdict")
    try:
        for connections in (int(c) for c in args.connections.split(",")):
            floor = wrk(bare.port, "/", None, connections, args.duration, script)
            print(f"{'bare ok':<26} {connections:>5} {floor['rps']:>8.0f} {floor['p99']:>8.1f}",
                  flush=True)
            for label, who, path in points:
                settle(portal.port)
                got = wrk(portal.port, path, cookie[who], connections, args.duration, script)
                ratio = got["rps"] / floor["rps"]
                verdict = "met" if ratio >= FLOOR else f"SHORT by {FLOOR - ratio:.1%}"
                trouble = (f"; {got['bad']} answers not 200 (e.g. {got['status']})" if got["bad"] else "") + (
                    f"; socket errors {got['errors']}" if got["errors"] else "")
                print(f"{label:<26} {connections:>5} {got['rps']:>8.0f} {got['p99']:>8.1f} "
                      f"{floor['rps']:>10.0f} {ratio:>6.3f} {statements[label]:>4}  "
                      f"10% floor {verdict}{trouble}", flush=True)
    finally:
        portal.stop()
        bare.stop()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
