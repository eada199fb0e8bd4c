"""Time the nightly run over N accounts on PostgreSQL.

    .venv/bin/python bench/nightly.py [--accounts 100000] [--batch-size 1000]

Uses DATABASE_URL, or creates a scratch database `portal_bench` on
postgresql://postgres@127.0.0.1 (BENCH_ADMIN_URL to change). The database is dropped and
rebuilt from the migrations, filled with COPY, then the nightly run is timed for one day and
run a second time (which must find nothing to do).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

AS_OF = date(2026, 12, 1)


def scratch_url() -> str:
    import psycopg

    admin = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "portal_bench" WITH (FORCE)')
        conn.execute('CREATE DATABASE "portal_bench"')
    return admin.rsplit("/", 1)[0] + "/portal_bench"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--contesting-share", type=float, default=0.0,
                        help="share of accounts with an open contesting dispute (e.g. 0.1)")
    parser.add_argument("--without-pause-providers", action="store_true",
                        help="measure the run's own cost: ask no pause provider")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or scratch_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_INSTANCE_PATH", "/tmp/portal-bench-instance")
    os.environ.setdefault("OUTBOX_DIR", "/tmp/portal-bench-instance/outbox")

    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.jobs.nightly import run_nightly

    app = create_app()
    if args.without_pause_providers:
        from portal.consequences import pauses

        pauses._providers.clear()
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
