"""The promise-to-pay pause provider's cost in the nightly run, measured side by side.

    .venv/bin/python bench/promises_pause.py [--accounts 5000] [--promise-share 0.2] [--rounds 3]

Seeds one scratch database (`portal_bench_promises_seed` on BENCH_ADMIN_URL's server) with
bench/nightly.py's accounts plus an open promise to pay on `--promise-share` of them, then per
round copies it twice (`CREATE DATABASE ... TEMPLATE`) and times one `run_nightly` on each
copy: the *floor* with every pause provider except the promises' (the run as it was before
issue 16), the *project* with all of them; the order alternates between rounds and a first
round warms up and is not counted. Prints each time, the postings (the project posts fewer:
promised accounts are paused) and the ratio project/floor of the median and best times.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nightly as base  # noqa: E402  (bench/nightly.py: the accounts, scratch databases)

SEED = "portal_bench_promises_seed"
RUN = "portal_bench_promises_run"


def add_promises(engine, n: int, share: float) -> int:
    """An open promise made online on every 1/share-th account (made two days before the run,
    due five days after it, three grace days)."""
    every = round(1 / share) if share > 0 else 0
    if not every:
        return 0
    made, promised = base.AS_OF - timedelta(days=2), base.AS_OF + timedelta(days=5)
    rows = [("cardholder", i, i, 10_000, "CNY" if i % 2 else "USD", made, promised, 3,
             promised + timedelta(days=3), "2026-11-29 00:00:00+00")
            for i in range(1, n + 1, every)]
    raw = engine.raw_connection()
    try:
        base._copy(raw.driver_connection, "promise_to_pay",
                   ["made_by", "account_id", "cardholder_id", "amount", "currency", "made_on",
                    "promised_on", "grace_days", "last_day", "created_at"], rows)
        raw.driver_connection.execute("ANALYZE promise_to_pay")
        raw.driver_connection.commit()
    finally:
        raw.close()
    return len(rows)


def _app(url: str):
    os.environ["DATABASE_URL"] = url
    from portal import create_app

    return create_app()


def _timed(url: str, without_promises: bool, batch_size: int) -> tuple[float, str]:
    from portal.collections.promises import promise_pause
    from portal.consequences import pauses
    from portal.extensions import db
    from portal.jobs.nightly import run_nightly

    app = _app(url)
    saved = list(pauses._providers)
    if without_promises:
        pauses._providers.remove(promise_pause)
    try:
        with app.app_context():
            started = time.perf_counter()
            summary = run_nightly(base.AS_OF, batch_size=batch_size)
            elapsed = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        pauses._providers[:] = saved
    return elapsed, summary.line()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--promise-share", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PORTAL_INSTANCE_PATH", "/tmp/portal-bench-promises-instance")
    os.environ.setdefault("OUTBOX_DIR", "/tmp/portal-bench-promises-instance/outbox")

    from flask_migrate import upgrade

    from portal.extensions import db

    seed = base.scratch_url(SEED)
    app = _app(seed)
    with app.app_context():
        upgrade(revision="heads")
        base.build(db.engine, args.accounts)
        promised = add_promises(db.engine, args.accounts, args.promise_share)
        db.session.remove()
        db.engine.dispose()
    print(f"seeded {args.accounts} accounts, {promised} with an open promise to pay")
    times = {"floor": [], "project": []}
    for round_no in range(args.rounds + 1):
        order = ("floor", "project") if round_no % 2 else ("project", "floor")
        for variant in order:
            url = base.scratch_url(RUN, template=SEED)
            elapsed, line = _timed(url, variant == "floor", args.batch_size)
            counted = round_no > 0
            if counted:
                times[variant].append(elapsed)
            print(f"round {round_no}{'' if counted else ' (warm-up)'} {variant:7} "
                  f"{elapsed:6.2f} s  {line}")
    base.drop(RUN)
    base.drop(SEED)
    median = statistics.median(times["project"]) / statistics.median(times["floor"])
    best = min(times["project"]) / min(times["floor"])
    print(f"project/floor time: median {median:.2f}x, best {best:.2f}x "
          f"({'within' if best <= 1.1 else 'OVER'} 10%)")


if __name__ == "__main__":
    main()
