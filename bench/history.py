"""History stays fast (issue 14): the nightly run and the dashboard with long and short ledgers.

    .venv/bin/python bench/history.py                         # both parts, defaults below
    .venv/bin/python bench/history.py --part nightly --accounts 10000 --days 365 --rounds 3
    .venv/bin/python bench/history.py --part nightly --without-snapshots   # and the old read
    .venv/bin/python bench/history.py --part dashboard --entries 10000 --requests 200

(a) nightly: scratch databases seeded in SQL with generate_series: N accounts (half `cn`, half
`us`, 30-200 days late) with one statement entry each ("short"), and the same accounts with a
year of daily penalty interest, a late fee and a payment a month (payments older than 60 days
acknowledged by the issuer) before the statement ("long"). Snapshots are closed through the
day before, as the previous night's run leaves them. Each round times `run_nightly` for the
next day on every database, the order alternating, and prints long/short (target <= 1.5x).
With `--without-snapshots` a third copy of the long history has its snapshots deleted before
each run: the whole-history read of the code before closing snapshots.

(b) dashboard: one cardholder with 10 ledger entries and one with `--entries` (daily interest),
snapshots closed through yesterday; GET /home signed in, through the Flask test client (the
whole request: session, queries, template), alternating; prints the SQL statements of one
request for each (must be equal) and the median time per request, and the ratio.

Scratch databases `portal_history_*_snapshots` on postgresql://postgres@127.0.0.1
(BENCH_ADMIN_URL to change) are dropped and recreated, and dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "bench"))

from nightly import drop, scratch_url  # noqa: E402  (bench/nightly.py: scratch databases)

AS_OF = date(2026, 12, 1)
PREFIX = "portal_history"
SUFFIX = "snapshots"  # this branch's scratch databases

SEED_ACCOUNTS = """
INSERT INTO cardholder (id, customer_id, full_name, date_of_birth, phone, email, locale,
                        timezone, failed_logins, session_version, created_at, updated_at)
SELECT i, 'H' || lpad(i::text, 9, '0'), 'History ' || i, DATE '1980-01-01',
       '+86139' || lpad(i::text, 8, '0'), 'h' || i || '@example.com',
       CASE WHEN i %% 2 = 1 THEN 'zh_Hans' ELSE 'en' END,
       CASE WHEN i %% 2 = 1 THEN 'Asia/Shanghai' ELSE 'America/New_York' END, 0, 0, now(), now()
FROM generate_series(1, %(n)s) AS i;
INSERT INTO account (id, account_number, card_last4, cardholder_id, currency, credit_limit,
                     policy_profile, status, minimum_due, oldest_unpaid_due_date, feed_as_of,
                     created_at)
SELECT i, '8' || lpad(i::text, 11, '0'), '4242', i,
       CASE WHEN i %% 2 = 1 THEN 'CNY' ELSE 'USD' END, 2000000,
       CASE WHEN i %% 2 = 1 THEN 'cn' ELSE 'us' END, 'open', 1000 + (i * 7919) %% 79000,
       %(feed)s::date - (30 + i %% 171), %(feed)s::date, now()
FROM generate_series(1, %(n)s) AS i;
INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT id, 'statement_balance', 'principal', 50000 + (id * 104729) %% 1950000, currency,
       %(feed)s::date, 'bench:opening', now() FROM account;
SELECT setval(pg_get_serial_sequence('cardholder', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('account', 'id'), %(n)s);
"""

# A year (or `days`) before the statement: daily interest, a late fee and a payment a month.
SEED_HISTORY = """
INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT a.id, 'interest', 'interest', 40 + a.id %% 60, a.currency, d::date,
       'nightly:' || d::date || ':interest', now()
FROM account a CROSS JOIN generate_series(%(feed)s::date - %(days)s, %(feed)s::date - 1,
                                          interval '1 day') AS d;
INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT a.id, 'fee', 'fee', 2500, a.currency, d::date, 'nightly:' || d::date || ':late_fee', now()
FROM account a CROSS JOIN generate_series(%(feed)s::date - %(days)s + 15, %(feed)s::date - 1,
                                          interval '30 days') AS d;
INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT a.id, 'payment', 'principal', -3000, a.currency, d::date, 'payment:bench:' || d::date,
       now()
FROM account a CROSS JOIN generate_series(%(feed)s::date - %(days)s + 20, %(feed)s::date - 1,
                                          interval '30 days') AS d;
INSERT INTO journal_ack (ledger_entry_id, account_id, feed_as_of, source, recorded_at)
SELECT id, account_id, %(feed)s::date, 'feed', now() FROM ledger_entry
WHERE kind = 'payment' AND effective_date < %(feed)s::date - 60;
"""


def _run_sql(conn, script: str, params: dict) -> None:
    """Several statements with parameters: bound on the client (psycopg's ClientCursor).
    Triggers are off for the bulk load (the snapshots are rebuilt from it afterwards)."""
    import psycopg

    cursor = psycopg.ClientCursor(conn)
    cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute(script, params)


def _app(url: str):
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-history",
                       "RATELIMIT_STORAGE_URI": "memory://",
                       "OUTBOX_DIR": f"/tmp/{PREFIX}-{SUFFIX}/outbox"})


def _seed(app, n: int, days: int, feed: date, *, history: bool) -> float:
    """Migrate, fill with SQL, close snapshots through `feed`; returns the seconds it took."""
    from flask_migrate import upgrade

    from portal.balances.snapshots import rebuild
    from portal.extensions import db

    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=os.path.join(HERE, "migrations"), revision="heads")
        raw = db.engine.raw_connection()
        try:
            params = {"n": n, "days": days, "feed": feed}
            _run_sql(raw.driver_connection, SEED_ACCOUNTS, params)
            if history:
                _run_sql(raw.driver_connection, SEED_HISTORY, params)
            raw.driver_connection.commit()
        finally:
            raw.close()
        rebuild(feed, batch_size=2000)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def _entries(app) -> int:
    from sqlalchemy import func, select

    from portal.accounts.models import LedgerEntry
    from portal.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def nightly_part(args) -> None:
    from sqlalchemy import delete

    from portal.balances.models import LedgerSnapshot
    from portal.extensions import db
    from portal.jobs.nightly import run_nightly

    labels = ["short", "long"] + (["long, no snapshots"] if args.without_snapshots else [])
    names = {label: f"{PREFIX}_{i}_{SUFFIX}" for i, label in enumerate(labels)}
    apps = {}
    feed = AS_OF - timedelta(days=1)
    try:
        for label in labels:
            if label == "long, no snapshots":  # a copy of the long history's database
                with apps["long"].app_context():
                    db.engine.dispose()
                started = time.perf_counter()
                apps[label] = _app(scratch_url(names[label], template=names["long"]))
                seconds = time.perf_counter() - started
            else:
                apps[label] = _app(scratch_url(names[label]))
                seconds = _seed(apps[label], args.accounts, args.days, feed,
                                history=label != "short")
            print(f"{label}: seeded {args.accounts:,} accounts, {_entries(apps[label]):,} "
                  f"ledger entries, snapshots closed through {feed}, in {seconds:.1f} s",
                  flush=True)
        times: dict[str, list[float]] = {label: [] for label in labels}
        for round_ in range(args.rounds):
            day = AS_OF + timedelta(days=round_)
            order = labels if round_ % 2 == 0 else labels[::-1]
            lines = {}
            for label in order:
                with apps[label].app_context():
                    if label == "long, no snapshots":
                        db.session.execute(delete(LedgerSnapshot))
                        db.session.commit()
                    started = time.perf_counter()
                    summary = run_nightly(day, batch_size=args.batch_size)
                    times[label].append(time.perf_counter() - started)
                    lines[label] = summary
                print(f"round {round_ + 1} ({day}) {label:>18}: {times[label][-1]:6.2f} s, "
                      f"{args.accounts / times[label][-1]:7,.0f} accounts/s; {summary.line()}",
                      flush=True)
        short = statistics.median(times["short"])
        for label in labels[1:]:
            ratio = statistics.median(times[label]) / short
            per_round = ", ".join(f"{t / s:.2f}" for t, s in zip(times[label], times["short"]))
            print(f"nightly, {label} / short: median {ratio:.2f}x (per round {per_round})"
                  + ("" if label != "long" else
                     (": within 1.5x" if ratio <= 1.5 else ": MORE than 1.5x")))
    finally:
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()
        for name in names.values():
            drop(name)


SEED_DASHBOARD = """
INSERT INTO cardholder (id, customer_id, full_name, date_of_birth, phone, email, locale,
                        timezone, failed_logins, session_version, created_at, updated_at,
                        password_hash, enrolled_at)
SELECT i, 'D' || i, 'Dashboard ' || i, DATE '1980-01-01', '+8613900000' || i,
       'd' || i || '@example.com', 'en', 'Asia/Shanghai', 0, 0, now(), now(), 'x', now()
FROM generate_series(1, 2) AS i;
INSERT INTO account (id, account_number, card_last4, cardholder_id, currency, credit_limit,
                     policy_profile, status, minimum_due, oldest_unpaid_due_date, feed_as_of,
                     created_at)
SELECT i, '70000000000' || i, '4242', i, 'CNY', 2000000, 'cn', 'open', 50000,
       %(yesterday)s::date - 45, %(yesterday)s::date - %(entries)s, now()
FROM generate_series(1, 2) AS i;
INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT a.id, 'statement_balance', 'principal', 800000, 'CNY',
       %(yesterday)s::date - %(entries)s, 'bench:opening', now() FROM account a;
INSERT INTO ledger_entry (account_id, kind, component, amount, currency, effective_date,
                          source_ref, posted_at)
SELECT a.id, 'interest', 'interest', 120, 'CNY', %(yesterday)s::date - k,
       'nightly:' || (%(yesterday)s::date - k) || ':interest', now()
FROM account a CROSS JOIN generate_series(0, %(entries)s - 2) AS k
WHERE k < CASE WHEN a.id = 1 THEN 9 ELSE %(entries)s - 1 END;
SELECT setval(pg_get_serial_sequence('cardholder', 'id'), 2);
SELECT setval(pg_get_serial_sequence('account', 'id'), 2);
"""


def dashboard_part(args) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import event, func, select

    from portal.accounts.models import LedgerEntry
    from portal.balances.snapshots import rebuild
    from portal.extensions import db
    from portal.timeutil import utcnow

    name = f"{PREFIX}_dashboard_{SUFFIX}"
    app = _app(scratch_url(name))
    try:
        with app.app_context():
            upgrade(directory=os.path.join(HERE, "migrations"), revision="heads")
            yesterday = utcnow().date() - timedelta(days=1)
            raw = db.engine.raw_connection()
            try:
                _run_sql(raw.driver_connection, SEED_DASHBOARD,
                         {"yesterday": yesterday, "entries": args.entries})
                raw.driver_connection.commit()
            finally:
                raw.close()
            rebuild(yesterday)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
            counts = dict(db.session.execute(select(LedgerEntry.account_id, func.count())
                                             .group_by(LedgerEntry.account_id)).all())
        statements: list[str] = []
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute",
                         lambda _c, _cur, sql, *_a: statements.append(sql))
        clients = {}
        for holder in (1, 2):
            client = app.test_client()
            with client.session_transaction() as sess:
                now = utcnow().timestamp()
                sess.update({"_user_id": f"c:{holder}", "_fresh": True, "sid": "bench",
                             "sv": 0, "started": now, "last_seen": now})
            clients[holder] = client
        per_request, times = {}, {1: [], 2: []}
        for holder, client in clients.items():  # warm-up, and one counted request each
            client.get("/home")
            statements.clear()
            response = client.get("/home")
            assert response.status_code == 200, response.status_code
            per_request[holder] = len(statements)
        for i in range(args.requests):
            for holder in ((1, 2) if i % 2 == 0 else (2, 1)):
                started = time.perf_counter()
                clients[holder].get("/home")
                times[holder].append(time.perf_counter() - started)
        short, long_ = (statistics.median(times[h]) * 1000 for h in (1, 2))
        for holder, label in ((1, "short"), (2, "long")):
            print(f"dashboard, {label:>5}: {counts[holder]:>6,} ledger entries, "
                  f"{per_request[holder]} SQL statements a request, "
                  f"median {statistics.median(times[holder]) * 1000:.2f} ms "
                  f"(best {min(times[holder]) * 1000:.2f} ms) over {args.requests} requests")
        same = per_request[1] == per_request[2]
        print(f"dashboard, long / short: statements {per_request[2]} vs {per_request[1]} "
              f"({'equal' if same else 'NOT EQUAL'}), time {long_ / short:.2f}x")
    finally:
        with app.app_context():
            db.engine.dispose()
        drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "nightly", "dashboard"), default="all")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365, help="days of history (long)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--without-snapshots", action="store_true",
                        help="also time the long history with its snapshots deleted")
    parser.add_argument("--entries", type=int, default=10_000,
                        help="ledger entries of the dashboard's long account")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("PORTAL_INSTANCE_PATH", f"/tmp/{PREFIX}-{SUFFIX}")
    if args.part in ("all", "dashboard"):
        dashboard_part(args)
    if args.part in ("all", "nightly"):
        nightly_part(args)


if __name__ == "__main__":
    main()
