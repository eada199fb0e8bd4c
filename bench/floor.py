"""The request around every signed-in page, in-process: Python CPU of one request (issue 15).

    .venv/bin/python bench/floor.py --database bench_stafflists_me             # this tree
    .venv/bin/python bench/floor.py --database bench_stafflists_me --against main --runs 3

Needs a database seeded by `bench/staff_lists.py --database NAME` (its staff members, the
cardholders of its rows). For each tree (with `--against REV`, REV in a temporary git
worktree; the two alternate, old first) a fresh interpreter on that tree's code builds the
app, adds two routes for the measurement only (`/_bench/ok`, signed in, answering "ok", and
`/_bench/bare`, no sign-in), and times through the Flask test client, after 5 warm-up
requests, REQUESTS requests of each point: the bare route through the portal's hooks, a
signed-in cardholder's and a staff member's "ok", the dashboard, the plan proposals and the
payments list (page 1). Printed: the median Python CPU (`time.process_time`) of a request per
point and run, the function calls of one request (cProfile, a count that does not move with
the machine's load), and new/old of the medians.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "bench"))

from pages import _head, trees_for  # noqa: E402  (bench/pages.py, beside this file)
from staff_lists import SECRET_KEY, database_url  # noqa: E402

POINTS = (("bare route through the hooks, signed out", None, "/_bench/bare"),
          ('signed-in cardholder "ok"', "holder", "/_bench/ok"),
          ('signed-in staff "ok"', "staff", "/_bench/ok"),
          ("dashboard /home", "holder", "/home"),
          ("plan proposals, page 1", "staff", "/staff/plans/review"),
          ("payments, page 1", "staff", "/staff/payments"))

CHILD = r'''
import cProfile, json, os, statistics, sys, time
from flask_login import login_required
from sqlalchemy import select
from portal import create_app
from portal.accounts.models import Account, Cardholder
from portal.extensions import db
from portal.staff.models import StaffUser
from portal.timeutil import utcnow

points, requests = json.loads(sys.argv[1]), int(sys.argv[2])
app = create_app()
app.add_url_rule("/_bench/ok", "bench_ok", login_required(lambda: "ok"))
app.add_url_rule("/_bench/bare", "bench_bare", lambda: "ok")
serializer = app.session_interface.get_signing_serializer(app)
with app.app_context():
    users = {"staff": db.session.scalar(select(StaffUser).where(
                 StaffUser.email == "manager@bench.example")),
             "holder": db.session.scalar(select(Cardholder).join(Account)
                                         .order_by(Cardholder.id).limit(1))}
    now = utcnow().timestamp()
    cookies = {who: serializer.dumps({"_user_id": user.get_id(), "_fresh": True,
                                      "sid": "bench-" + who, "sv": user.session_version,
                                      "started": now, "last_seen": now})
               for who, user in users.items()}
    db.session.remove()
result = {}
for label, who, path in points:
    client = app.test_client()
    if who:
        client.set_cookie("session", cookies[who], domain="localhost")
    for _ in range(5):
        answer = client.get(path)
        if answer.status_code != 200:
            sys.exit(f"{path} answered {answer.status_code} in-process")
    cpu = []
    for _ in range(requests):
        started = time.process_time()
        client.get(path)
        cpu.append((time.process_time() - started) * 1000)
    profile = cProfile.Profile()
    profile.enable()
    client.get(path)
    profile.disable()
    result[label] = {"cpu_ms": statistics.median(cpu),
                     "calls": sum(stat.callcount for stat in profile.getstats())}
print(json.dumps(result))
'''


def measure(tree: str, env: dict, requests: int) -> dict:
    points = [[label, who, path] for label, who, path in POINTS]
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(points), str(requests)],
                          env={**env, "PYTHONPATH": tree}, cwd=tree, capture_output=True,
                          text=True)
    if done.returncode:
        sys.exit(f"{tree} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_stafflists",
                        help="a database seeded by bench/staff_lists.py (bench_stafflists)")
    parser.add_argument("--against", metavar="REV", help="also measure REV, alternating")
    parser.add_argument("--runs", type=int, default=3, help="runs of each tree (3)")
    parser.add_argument("--requests", type=int, default=300,
                        help="requests per point and run (median, 300)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="portal-bench-floor-")
    instance = os.path.join(work, "instance")
    env = {**os.environ, "PORTAL_ENV": "development", "SECRET_KEY": SECRET_KEY,
           "DATABASE_URL": database_url(args.database).replace("postgresql://",
                                                               "postgresql+psycopg://"),
           "PORTAL_INSTANCE_PATH": instance, "OUTBOX_DIR": os.path.join(instance, "outbox"),
           "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://"}
    trees = trees_for(args.against, work)
    runs: dict[str, list[dict]] = {label: [] for label in trees}
    try:
        for tree in trees.values():
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "-q",
                            "compile", "-d", os.path.join(tree, "translations")], check=True)
        print(" ".join(f"{label} = {_head(tree)}" for label, tree in trees.items())
              + f"; load average before: {os.getloadavg()[0]:.1f}", flush=True)
        for n in range(args.runs):
            for label, tree in trees.items():
                runs[label].append(measure(tree, env, args.requests))
                print(f"run {n + 1} {label} done, load average {os.getloadavg()[0]:.1f}",
                      flush=True)
    finally:
        if args.against:
            subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", trees["old"]])
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nPython CPU of one request, ms (median of {args.requests}, each run), and "
          "function calls of one request:\n")
    labels = list(trees)
    print("| request | " + " | ".join(f"{label} (runs)" for label in labels)
          + (" | new/old (median) | calls old -> new |" if args.against else " | calls |"))
    print("| --- |" + " --- |" * len(labels) + (" ---: | ---: |" if args.against else " ---: |"))
    for label, _who, _path in POINTS:
        cells = [" / ".join(f"{run[label]['cpu_ms']:.2f}" for run in runs[tree])
                 for tree in labels]
        if args.against:
            old = statistics.median(run[label]["cpu_ms"] for run in runs["old"])
            new = statistics.median(run[label]["cpu_ms"] for run in runs["new"])
            tail = (f" | {new / old:.2f} | {runs['old'][0][label]['calls']:,} -> "
                    f"{runs['new'][0][label]['calls']:,} |")
        else:
            tail = f" | {runs['new'][0][label]['calls']:,} |"
        print(f"| {label} | " + " | ".join(cells) + tail)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
