"""Time the account-feed import against `psql \\copy` of the same file, in one run.

    python bench/import_feed.py [ROWS] [--sqlite]

Default 100,000 rows on PostgreSQL: a scratch database (BENCH_DB_NAME, default
portal_bench_import, on BENCH_PG, default postgresql://postgres@127.0.0.1) is dropped and
created afresh: never point it at a database you care about. It generates a CSV feed and times

- the floor: `psql \\copy` of the file into a plain table of text columns (no checks at all),
  taken before each pass so both see the same machine;
- a first load (every account and cardholder new), an unchanged replay of the same file, and
  an import where every balance changed;

and prints each pass's time, the floor and the ratio, against the targets (first load at most
30x the copy, replay at most 10x). --sqlite runs the import alone on a scratch SQLite file.
"""
from __future__ import annotations

import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from portal.journal.feed_rules import FIELDS  # noqa: E402

COPY_LABEL = "psql \\copy"
TARGETS = {"first load": 30, "replay (nothing changes)": 10}


def write_feed(path: str, rows: int, *, principal_bump: int = 0, as_of: str = "2026-11-28") -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for n in range(1, rows + 1):
            writer.writerow([
                f"62{n:014d}", f"{n % 10000:04d}", f"C{n // 2:08d}", f"Holder {n // 2}",
                "1985-03-14", f"+86138{n // 2 % 100_000_000:08d}", f"h{n // 2}@example.com",
                "zh_Hans" if n // 2 % 3 else "en", "Asia/Shanghai", "cn", "CNY", "50000",
                f"{8000 + n % 500 + principal_bump}.25", "120.50", "50", "800",
                "2026-09-01" if n % 4 else "", as_of,
            ])


def _scratch_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def _psql_copy(url: str, path: str) -> float:
    """Seconds for `psql \\copy` of the file into a fresh plain table."""
    psql = shutil.which("psql")
    columns = ", ".join(f"{name} text" for name in FIELDS)
    subprocess.run([psql, "-q", "-X", url, "-c", "DROP TABLE IF EXISTS bench_feed_copy",
                    "-c", f"CREATE TABLE bench_feed_copy ({columns})"], check=True)
    start = time.perf_counter()
    subprocess.run([psql, "-q", "-X", url, "-c",
                    f"\\copy bench_feed_copy FROM '{path}' WITH (FORMAT csv, HEADER true)"],
                   check=True)
    return time.perf_counter() - start


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = int(args[0]) if args else 100_000
    use_sqlite = "--sqlite" in sys.argv
    workdir = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.setdefault("PORTAL_INSTANCE_PATH", workdir)
    from flask_migrate import upgrade

    from portal import create_app
    from portal.journal.feed_rules import forget
    from portal.journal.importer import import_file

    if use_sqlite:
        db_url, psql_url = f"sqlite:///{os.path.join(workdir, 'bench.db')}", None
    else:
        psql_url = _scratch_database(os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1"),
                                     os.environ.get("BENCH_DB_NAME", "portal_bench_import"))
        db_url = psql_url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    first, changed = os.path.join(workdir, "feed.csv"), os.path.join(workdir, "changed.csv")
    write_feed(first, rows)
    write_feed(changed, rows, principal_bump=7, as_of="2026-11-29")
    passes = [("first load", first), ("replay (nothing changes)", first),
              ("every balance changed", changed)]
    with app.app_context():
        upgrade(revision="heads")
        print(f"{rows} rows, {'SQLite' if use_sqlite else 'PostgreSQL'}, "
              f"load {os.getloadavg()[0]:.1f}")
        print(f"{'pass':<26} {'import':>9} {'rows/s':>9} {COPY_LABEL:>11} {'ratio':>7}  target")
        for label, path in passes:
            floor = None
            if psql_url:
                floor = statistics.median(_psql_copy(psql_url, path) for _ in range(3))
            forget()  # each pass starts like `flask accounts import`, a new process
            start = time.perf_counter()
            result = import_file(path)
            elapsed = time.perf_counter() - start
            target = TARGETS.get(label)
            line = f"{label:<26} {elapsed:8.2f}s {rows / elapsed:9.0f}"
            if floor:
                ratio = elapsed / floor
                verdict = (f"<= {target}x {'met' if ratio <= target else 'MISSED'}"
                           if target else "")
                line += f" {floor:10.3f}s {ratio:6.1f}x  {verdict}"
            print(line)
            print(f"    {result.summary()}")


if __name__ == "__main__":
    main()
