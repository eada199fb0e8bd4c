"""Audit without a global bottleneck: cardholders sign in and pay concurrently through two web
processes (gunicorn, two workers each) on PostgreSQL, with the audit log as designed
(per-stream keyed chains, portal/audit/) beside the same with audit events appended without
chaining (bench/audit_app.py, BENCH_AUDIT=unchained), in one run, alternating.

    .venv/bin/python bench/audit.py                          # 160 cardholders, 8 clients, 2 rounds
    .venv/bin/python bench/audit.py --cardholders 400 --clients 16 --rounds 3

Each variant runs on a fresh copy of one seeded database (CREATE DATABASE ... TEMPLATE): the
cardholders fed through `flask accounts import`, each with a password. Phase one: every
cardholder signs in (the login form, CSRF, password check); phase two: every cardholder pays
the overdue amount with the sandbox card (pay page, choice, checkout, card form: the payment is
posted). Half go to each web process. Printed: each phase's rate per variant and round, and
the ratio designed/unchained of the rates summed over the rounds, against the 20% bound.
BENCH_DATABASE_URL names the scratch database (default portal_bench_audit_prodcheck).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.delivery_peers import free_port  # noqa: E402
from tests.integration.jobs_helpers import Process, wait_for  # noqa: E402
from tests.integration.payment_helpers import form_tokens  # noqa: E402
from tests.prodcheck.db import rows  # noqa: E402
from tests.prodcheck.feed import feed_file  # noqa: E402
from tests.prodcheck.payment import sign_in, start_payment  # noqa: E402
from tests.prodcheck.stack import drop_database, http_answers, recreate_database  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL",
                     "postgresql://postgres@127.0.0.1/portal_bench_audit_prodcheck")
PASSWORD = "Bench-pass-2026!"
VARIANTS = ("designed", "unchained")


def _url(suffix: str = "") -> str:
    url = make_url(URL)
    return url.set(database=f"{url.database}{suffix}").render_as_string(hide_password=False)


def _environ(tmp: str, database: str, variant: str = "designed") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_NOW", "TEST_DATABASE_URL")}
    env.update(PORTAL_ENV="development", DATABASE_URL=database, BENCH_AUDIT=variant,
               PORTAL_INSTANCE_PATH=os.path.join(tmp, "instance"),
               OUTBOX_DIR=os.path.join(tmp, "outbox"), PYTHONUNBUFFERED="1",
               # Every sign-in comes from 127.0.0.1: the per-address limit would stop the bench.
               LOGIN_RATE_LIMIT_IP="1000000 per minute")
    return env


def seed(tmp: str, count: int) -> list[tuple[int, str]]:
    """The seed database: `count` accounts fed in, each cardholder enrolled with PASSWORD."""
    seed_url = _url("_seed")
    recreate_database(seed_url)
    env = _environ(tmp, seed_url)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    path = os.path.join(tmp, "feed.csv")
    feed_file(path, count, date.today() - timedelta(days=2))
    subprocess.run([*flask, "accounts", "import", path], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    rows("UPDATE cardholder SET password_hash = %s, enrolled_at = now() RETURNING id",
         generate_password_hash(PASSWORD), url=seed_url)
    return [(r["id"], r["email"]) for r in rows(
        "SELECT a.id, c.email FROM account a JOIN cardholder c ON c.id = a.cardholder_id "
        "ORDER BY a.id", url=seed_url)]


def _sandbox_pay(session: requests.Session, base: str, account_id: int) -> None:
    payment_id, page = start_payment(session, base, account_id)
    response = session.post(f"{base}/payments/{payment_id}/sandbox/card", allow_redirects=False,
                            data={"csrf_token": form_tokens(page)["csrf_token"],
                                  "card_number": "4242424242424242", "expiry": "12/30",
                                  "cvc": "123"})
    if response.status_code != 302:
        raise AssertionError(f"paying {payment_id}: HTTP {response.status_code}")


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(groups: list[int], database: str) -> float:
    """CPU seconds used so far by the web processes (their process groups) and by the
    PostgreSQL backends serving `database` (read from /proc: the server must be on this host)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) in groups or (command.startswith("postgres: ") and
                                        f" {database} " in command):
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def _timed(pool: ThreadPoolExecutor, work, items, cpu) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the servers) for every item's work, `pool` at a time."""
    used, started = cpu(), time.perf_counter()
    for future in [pool.submit(work, *item) for item in items]:
        future.result()
    return time.perf_counter() - started, cpu() - used


def one_run(tmp: str, variant: str, holders, clients: int) -> dict:
    database = _url()
    recreate_database(database, template=_url("_seed"))
    env = _environ(tmp, database, variant)
    bases, processes = [], []
    for name in ("a", "b"):
        port = free_port()
        bases.append(f"http://127.0.0.1:{port}")
        processes.append(Process([sys.executable, "-m", "gunicorn", "--pythonpath", "bench",
                                  "audit_app:app", "--bind", f"127.0.0.1:{port}", "--workers",
                                  "2", "--threads", "2", "--timeout", "120"], env,
                                 f"web-{name}"))
    try:
        for base in bases:
            wait_for(lambda: http_answers(base + "/healthz"), 90, f"{base} to answer")
        sessions = [requests.Session() for _ in holders]
        work = [(sessions[n], bases[n % 2], holder) for n, holder in enumerate(holders)]
        name = make_url(database).database
        cpu = lambda: _cpu([p.proc.pid for p in processes], name)  # noqa: E731
        with ThreadPoolExecutor(clients) as pool:
            signed, signed_cpu = _timed(pool, lambda s, b, h: sign_in(s, b, h[1], PASSWORD),
                                        work, cpu)
            # Each session sat idle since its sign-in: gthread has closed its kept-alive
            # connection (2 s), and a request sent on it as the server closes it is reset
            # (make bench failed so once). The payments start on fresh connections; the
            # cookies stay.
            for session in sessions:
                session.close()
            paid, paid_cpu = _timed(pool, lambda s, b, h: _sandbox_pay(s, b, h[0]), work, cpu)
    finally:
        for process in processes:
            process.kill(signal.SIGKILL)
    posted = rows("SELECT count(*) AS n FROM payment WHERE status = 'succeeded'",
                  url=database)[0]["n"]
    events = rows("SELECT count(*) AS n, count(seq) AS chained FROM audit_event",
                  url=database)[0]
    if posted != len(holders):
        raise AssertionError(f"{variant}: {posted} payments posted, {len(holders)} expected")
    verified = ""
    if variant == "designed":
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"audit verify after the designed run: {done.stdout}")
        verified = done.stdout.strip()
    return {"variant": variant, "sign_in": len(holders) / signed, "pay": len(holders) / paid,
            "sign_in_cpu": 1000 * signed_cpu / len(holders),
            "pay_cpu": 1000 * paid_cpu / len(holders),
            "events": events["n"], "chained": events["chained"], "verified": verified}


def _interrupted(signum, _frame):
    raise SystemExit(f"interrupted by signal {signum}")  # so every web process is killed


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cardholders", type=int, default=160)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-audit-")
    try:
        holders = seed(tmp, args.cardholders)
        print(f"{len(holders)} cardholders, {args.clients} concurrent clients, two web "
              f"processes (gunicorn, 2 workers x 2 threads each), PostgreSQL {make_url(URL)}")
        print(f"{'round':>5} {'audit':>10} {'sign-ins/s':>11} {'CPU ms':>7} {'payments/s':>11} "
              f"{'CPU ms':>7} {'events':>7} {'chained':>8}")
        results = []
        for n in range(args.rounds):
            order = VARIANTS if n % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                result = one_run(tmp, variant, holders, args.clients)
                results.append(result)
                print(f"{n + 1:>5} {variant:>10} {result['sign_in']:>11.1f} "
                      f"{result['sign_in_cpu']:>7.0f} {result['pay']:>11.1f} "
                      f"{result['pay_cpu']:>7.0f} {result['events']:>7} {result['chained']:>8}  "
                      f"{result['verified']}", flush=True)
        print("CPU ms: per cardholder, used by the two web processes and their PostgreSQL "
              "backends")
        for phase, label in (("sign_in", "sign-ins"), ("pay", "payments")):
            rate = {v: sum(r[phase] for r in results if r["variant"] == v) for v in VARIANTS}
            cpu = {v: sum(r[f"{phase}_cpu"] for r in results if r["variant"] == v)
                   for v in VARIANTS}
            ratio = rate["designed"] / rate["unchained"]
            cpu_ratio = cpu["unchained"] / cpu["designed"]
            verdict = "within 20%" if min(ratio, cpu_ratio) >= 0.8 else "MORE than 20% slower"
            print(f"{label}: designed/unchained = {ratio:.2f} by rate, {cpu_ratio:.2f} by CPU "
                  f"({verdict})")
    finally:
        for suffix in ("", "_seed"):
            drop_database(_url(suffix))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
