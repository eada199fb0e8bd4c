"""Time the account-feed import: `python bench/import_feed.py [ROWS]` (default 20000).

Generates a CSV feed, loads it into a scratch SQLite database (or DATABASE_URL, which it
will fill: never point it at a database you care about), then times a replay (no-op) and an
import where every balance changed. Prints rows per second for each pass.
"""
from __future__ import annotations

import csv
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from portal.journal.feed_rules import FIELDS  # noqa: E402


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


def timed(label: str, rows: int, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {elapsed:7.2f} s  {rows / elapsed:9.0f} rows/s  ({result.summary()})")
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    workdir = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.setdefault("PORTAL_INSTANCE_PATH", workdir)
    from flask_migrate import upgrade

    from portal import create_app
    from portal.journal.importer import import_file

    config = {}
    if not os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.path.join(workdir, 'bench.db')}"
    app = create_app(config)
    first, changed = os.path.join(workdir, "feed.csv"), os.path.join(workdir, "changed.csv")
    write_feed(first, rows)
    write_feed(changed, rows, principal_bump=7, as_of="2026-11-29")
    with app.app_context():
        upgrade(revision="heads")
        print(f"{rows} rows, database {app.config['SQLALCHEMY_DATABASE_URI']}")
        timed("first load", rows, lambda: import_file(first))
        timed("replay (nothing changes)", rows, lambda: import_file(first))
        timed("every balance changed", rows, lambda: import_file(changed))


if __name__ == "__main__":
    main()
