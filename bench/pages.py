"""Cardholder dashboard and timeline under load, side by side with a bare Flask route.

    .venv/bin/python bench/pages.py                      # 10 s per point, 16 and 64 connections
    .venv/bin/python bench/pages.py --duration 20 --rounds 2
    .venv/bin/python bench/pages.py --against 36a8f40    # that commit and this tree, one run

Builds a scratch PostgreSQL database `bench_pages` (BENCH_ADMIN_URL names the server;
dropped and rebuilt): three published versions of each policy profile, cardholders fed in
through the account-feed importer with a statement 40 days old, the nightly run up to today
(daily interest, fees, consequences, letters, stage moves), an instalment plan on every third account and a dispute on every fourth. Then it
starts gunicorn with 2 sync workers for the portal (PORTAL_ENV=development, this database)
and, in the same run, gunicorn with 2 sync workers for bench/bare.py (a route returning
"ok"), signs several cardholders in through /login, and runs wrk against the bare route, the
dashboard (/home) and the timeline (/accounts/<id>/timeline) at 16 and 64 connections, a Lua
script rotating the cardholders' cookies. It prints req/s, p99, the ratio to the bare route
and how far each is from the issue's bounds (10% of the bare route's throughput and p99
250 ms at 64 connections; the aims 25% and 100 ms), the peak RSS (VmHWM) of every gunicorn
worker against 200 MB, and the SQL statements and in-process time of one request of each
page.

No rate limit applies to GET pages (Flask-Limiter limits only sign-in, code and staff POSTs);
the sign-ins here are 8 per tree and round, under the per-address and per-identity limits.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from pages_seed import PASSWORD  # bench/pages_seed.py, beside this file

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(HERE, "bench", "pages_seed.py")

DB_NAME = "bench_pages"
SECRET_KEY = "bench-pages-secret-key"
CONNECTIONS = (16, 64)
MB = 1024 * 1024
FLOOR, AIM = 0.10, 0.25  # share of the bare route's throughput
P99_BOUND_MS, P99_AIM_MS = 250, 100  # at 64 connections
RSS_BOUND_MB = 200


def admin_url() -> str:
    return os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")


def scratch_url(name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url().rsplit("/", 1)[0] + "/" + name


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- the parent: servers, sign-in, wrk ---------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tree: str, url: str, work: str) -> dict:
    instance = os.path.join(work, "instance-" + os.path.basename(tree))
    return {**os.environ, "BENCH_TREE": tree, "DATABASE_URL": url, "PORTAL_ENV": "development",
            "SECRET_KEY": SECRET_KEY, "PORTAL_INSTANCE_PATH": instance,
            "OUTBOX_DIR": os.path.join(instance, "outbox"), "REDIS_URL": "",
            "RATELIMIT_STORAGE_URI": "memory://", "PYTHONPATH": tree}


def _child(args: list[str], env: dict, cwd: str) -> str:
    """bench/pages_seed.py in a fresh interpreter on the code of the tree `env` names."""
    done = subprocess.run([sys.executable, SEED, *args], env=env,
                          cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


class Server:
    """gunicorn, 2 sync workers, on a free port of 127.0.0.1."""

    def __init__(self, label: str, app: str, cwd: str, env: dict, workers: int):
        self.label, self.port = label, _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync",
             "-b", f"127.0.0.1:{self.port}", "--chdir", cwd, "--log-level", "warning",
             "--timeout", "60", app], env=env, cwd=cwd)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                status, _, _ = request(self.port, "GET", "/healthz" if "wsgi" in app else "/")
                if status == 200 and len(self.workers()) == workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit(f"{label}: gunicorn did not answer on port {self.port}")

    def workers(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def peak_rss_mb(self) -> list[float]:
        peaks = []
        for pid in self.workers():
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def request(port: int, method: str, path: str, body: dict | None = None,
            cookie: str | None = None) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    result = response.status, dict(response.getheaders()), text
    conn.close()
    return result


def _session_cookie(headers: dict) -> str | None:
    found = re.search(r"(?:^|, )(session=[^;]+)", headers.get("Set-Cookie", ""))
    return found.group(1) if found else None


def sign_in(port: int, email: str) -> str:
    """The session cookie of a cardholder signed in through the form, as a browser would."""
    status, headers, page = request(port, "GET", "/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    cookie = _session_cookie(headers)
    status, headers, _ = request(port, "POST", "/login", {
        "csrf_token": token, "identity": email, "password": PASSWORD, "next": ""}, cookie)
    signed = _session_cookie(headers)
    if status != 302 or not signed:
        sys.exit(f"sign-in of {email} failed: {status}")
    return signed


LUA = """
local reqs = {%s}
local i = 0
function setup(thread) thread:set("start", math.random(#reqs)) end
function init(args) i = start end
function request()
  i = i %% #reqs + 1
  return wrk.format("GET", reqs[i][1], {["Cookie"] = reqs[i][2]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(99), e.status, e.timeout + e.connect + e.read + e.write))
end
"""


def wrk(port: int, targets: list[tuple[str, str]], connections: int, duration: int,
        work: str) -> dict:
    script = os.path.join(work, f"rotate-{port}-{connections}.lua")
    pairs = ", ".join('{"%s", "%s"}' % (path, cookie) for path, cookie in targets)
    with open(script, "w") as f:
        f.write(LUA % pairs)
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s",
                          "--timeout", "5s", "-s", script, f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, check=True).stdout
    requests, micros, p99, bad_status, errors = map(int, out.split("WRK ", 1)[1].split()[:5])
    return {"rps": requests / (micros / 1e6), "p99": p99 / 1000, "bad": bad_status,
            "errors": errors, "requests": requests}


def _verdict(ratio: float, p99: float, connections: int) -> str:
    parts = []
    parts.append(f"10% floor {'met' if ratio >= FLOOR else f'SHORT by {FLOOR - ratio:.1%}'}")
    parts.append(f"25% aim {'met' if ratio >= AIM else f'at {ratio / AIM:.0%} of it'}")
    if connections == max(CONNECTIONS):
        parts.append(f"p99 250 ms {'met' if p99 <= P99_BOUND_MS else f'OVER by {p99 - P99_BOUND_MS:.0f} ms'}")
        parts.append(f"100 ms aim {'met' if p99 <= P99_AIM_MS else f'over by {p99 - P99_AIM_MS:.0f} ms'}")
    return "; ".join(parts)


def _holders(url: str, how_many: int) -> list[tuple[int, str, int]]:
    """Cardholders to sign in: with a plan, with a dispute, with two cards, and others."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT c.id, c.email, min(a.id) FROM cardholder c JOIN account a "
            "ON a.cardholder_id = c.id WHERE c.email LIKE '%%@bench.example' "
            "GROUP BY c.id, c.email ORDER BY c.id").fetchall()
    step = max(1, len(rows) // how_many)
    return [tuple(r) for r in rows[::step][:how_many]]


def _head(tree: str) -> str:
    head = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", tree, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head + ("+changes" if dirty else "")


def trees_for(against: str | None, work: str) -> dict[str, str]:
    """{"new": this tree}, and with `against` {"old": REV checked out in a temporary git
    worktree under `work` (the caller removes it), "new": ...}."""
    if not against:
        return {"new": HERE}
    old = os.path.join(work, "old")
    subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", "--quiet", old, against],
                   check=True)
    return {"old": old, "new": HERE}


def run(args) -> None:
    work = tempfile.mkdtemp(prefix="portal-bench-pages-")
    trees = trees_for(args.against, work)
    labels = {label: _head(tree) for label, tree in trees.items()}
    servers: list[Server] = []
    try:
        pybabel = os.path.join(os.path.dirname(sys.executable), "pybabel")
        for tree in trees.values():
            subprocess.run([pybabel, "-q", "compile", "-d", os.path.join(tree, "translations")],
                           check=True)
        url = scratch_url(args.database)
        started = time.perf_counter()
        print(_child(["seed", "--cardholders", str(args.cardholders)],
                     _env(HERE, url, work), HERE).strip()
              + f" ({time.perf_counter() - started:.0f} s)", flush=True)
        holders = _holders(url, args.signed_in)
        for label, tree in trees.items():
            out = _child(["count", "--holders", ",".join(str(h[0]) for h in holders)],
                         _env(tree, url, work), tree)
            for line in out.splitlines():
                if line.startswith("COUNT "):
                    _, page, low, high, ms, cpu = line.split()
                    statements = low if low == high else f"{low}-{high}"
                    print(f"{label} ({labels[label]}) {page}: {statements} SQL statements a "
                          f"request; in-process {float(ms):.1f} ms, of which Python CPU "
                          f"{float(cpu):.1f} ms (median of {len(holders)} cardholders)",
                          flush=True)
        bare = Server("bare", "bare:app", os.path.join(HERE, "bench"), dict(os.environ), 2)
        servers.append(bare)
        portal = {}
        for label, tree in trees.items():
            portal[label] = Server(label, "wsgi:app", tree, _env(tree, url, work), args.workers)
            servers.append(portal[label])
        results: dict = {}
        for round_ in range(1, args.rounds + 1):
            # Signed in afresh each round: a session idle 15 minutes ends (the cookie sent by
            # wrk keeps its sign-in time), and 8 sign-ins a round stay under the limits.
            cookies = {label: [(sign_in(portal[label].port, email), account_id)
                               for _, email, account_id in holders] for label in trees}
            for connections in CONNECTIONS:
                floor = wrk(bare.port, [("/", "x=1")], connections, args.duration, work)
                print(f"round {round_}, {connections} connections: bare {floor['rps']:8,.0f} "
                      f"req/s, p99 {floor['p99']:6.1f} ms", flush=True)
                order = list(trees) if round_ % 2 else list(reversed(trees))
                for label in order:
                    server = portal[label]
                    for page in ("dashboard", "timeline"):
                        targets = [("/home" if page == "dashboard" else
                                    f"/accounts/{account_id}/timeline", cookie)
                                   for cookie, account_id in cookies[label]]
                        for path, cookie in targets:  # every cookie signs in: a 200, no redirect
                            status = request(server.port, "GET", path, cookie=cookie)[0]
                            if status != 200:
                                sys.exit(f"{label} {path} answered {status}")
                        got = wrk(server.port, targets, connections, args.duration, work)
                        ratio = got["rps"] / floor["rps"]
                        results.setdefault((label, page, connections), []).append(
                            (got["rps"], got["p99"], ratio))
                        print(f"round {round_}, {connections} connections: {label} {page:9} "
                              f"{got['rps']:8,.1f} req/s, p99 {got['p99']:6.1f} ms, "
                              f"ratio {ratio:.3f} ({_verdict(ratio, got['p99'], connections)})"
                              + (f"; {got['bad']} non-2xx/3xx, {got['errors']} socket errors"
                                 if got["bad"] or got["errors"] else ""), flush=True)
        print(f"\nsummary ({args.duration} s per point, {args.rounds} round(s), "
              f"{len(holders)} cardholders signed in, load average "
              f"{os.getloadavg()[0]:.1f}; {', '.join(f'{k} = {v}' for k, v in labels.items())})")
        for (label, page, connections), got in sorted(results.items()):
            rps = statistics.median(g[0] for g in got)
            p99 = statistics.median(g[1] for g in got)
            ratio = statistics.median(g[2] for g in got)
            print(f"  {label:>3} {page:9} {connections:2} conn: {rps:8,.1f} req/s, p99 "
                  f"{p99:6.1f} ms, ratio {ratio:.3f}: {_verdict(ratio, p99, connections)}")
        for server in servers:
            peaks = server.peak_rss_mb()
            print(f"  peak RSS per worker, {server.label}: "
                  + ", ".join(f"{p:.0f} MB" for p in peaks)
                  + f" ({'under' if max(peaks) < RSS_BOUND_MB else 'OVER'} {RSS_BOUND_MB} MB)")
    finally:
        for server in servers:
            server.stop()
        if not args.keep_db:
            drop(args.database)
        if args.against:
            subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", trees["old"]])
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per point (10)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every point (1)")
    parser.add_argument("--cardholders", type=int, default=200,
                        help="cardholders in the database (200)")
    parser.add_argument("--signed-in", type=int, default=8,
                        help="cardholders signed in, their cookies rotated by wrk (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--database", default=DB_NAME, help=f"scratch database ({DB_NAME})")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database")
    parser.add_argument("--against", metavar="REV",
                        help="also measure REV (a temporary git worktree) in the same run")
    args = parser.parse_args()
    run(args)


if __name__ == "__main__":
    main()
