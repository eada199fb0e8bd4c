"""Time the account-feed import against `psql \\copy` of the same file, in one run.

    python bench/import_feed.py [ROWS] [--sqlite]
    python bench/import_feed.py [ROWS] --against REV [--rounds N]

Default 100,000 rows on PostgreSQL: a scratch database (BENCH_DB_NAME, default
portal_bench_import, on BENCH_PG, default postgresql://postgres@127.0.0.1) is dropped and
created afresh: never point it at a database you care about. It generates a CSV feed and times

- the floor: `psql \\copy` of the file into a plain table of text columns (no checks at all),
  taken before each pass so both see the same machine;
- a first load (every account and cardholder new), an unchanged replay of the same file, and
  an import where every balance changed;

and prints each pass's time, the floor, the ratio against the targets (first load at most
30x the copy, replay at most 10x). --sqlite runs the import alone on a scratch SQLite file.

With --against REV (e.g. main) the code at REV, checked out into a temporary git worktree, and
this tree each run the three passes in a fresh interpreter on its own code and its own scratch
database (BENCH_DB_NAME with _old and _new), one tree after the other, the order alternating
between rounds (--rounds, default 1), each pass beside its own floor. Printed: every pass of
both trees with the CPU it used in Python and in the database's server processes (read from
/proc: the database must be on this host; on a loaded machine the clock stretches far more
than the CPU), then the medians and the ratios new/old; and whether the two databases hold the same
cardholders, accounts, ledger, acknowledgements, replay digests, audit events and stream heads
(every column but the clock's: created/updated/posted/recorded times and the audit hashes
that cover them) and whether both audit logs verify.
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

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tree whose `portal` is measured: this one, or (a child of --against) the other one.
sys.path.insert(0, os.environ.get("BENCH_TREE") or HERE)

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


# Columns the clock writes (and the audit hashes, which cover created_at): left out when the
# two trees' databases are compared.
CLOCK_COLUMNS = {"created_at", "updated_at", "posted_at", "recorded_at", "hash", "prev_hash",
                 "last_hash"}
COMPARED = ("cardholder", "account", "ledger_entry", "journal_ack", "journal_feed_seen",
            "audit_event", "audit_stream_head")


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Each compared table's row count and a digest of its rows, clock columns left out."""
    import hashlib

    import psycopg

    out = {}
    with psycopg.connect(url) as conn:
        for table in COMPARED:
            cur = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
            keep = [i for i, d in enumerate(cur.description) if d.name not in CLOCK_COLUMNS]
            digest, count = hashlib.sha256(), 0
            for row in cur:
                digest.update(repr([row[i] for i in keep]).encode())
                count += 1
            out[table] = (count, digest.hexdigest()[:16])
    return out


def run_passes(rows: int, use_sqlite: bool, workdir: str, first: str, changed: str) -> dict:
    """The three passes on this process's tree; {pass: (seconds, floor)} and the contents."""
    os.environ.setdefault("PORTAL_INSTANCE_PATH", workdir)
    # lazy: the app reads PORTAL_INSTANCE_PATH, set just above
    from flask_migrate import upgrade

    from portal import create_app
    from portal.audit.services import verify_chain
    from portal.journal.feed_rules import forget
    from portal.journal.importer import import_file

    if use_sqlite:
        db_url, psql_url = f"sqlite:///{os.path.join(workdir, 'bench.db')}", None
    else:
        psql_url = _scratch_database(os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1"),
                                     os.environ.get("BENCH_DB_NAME", "portal_bench_import"))
        db_url = psql_url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    passes = [("first load", first), ("replay (nothing changes)", first),
              ("every balance changed", changed)]
    times = {}
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
            backends = _backend_pids(psql_url)
            cpu = time.process_time(), _server_ticks(backends)
            start = time.perf_counter()
            result = import_file(path)
            elapsed = time.perf_counter() - start
            python = time.process_time() - cpu[0]
            server = (_server_ticks(backends) - cpu[1]) / os.sysconf("SC_CLK_TCK")
            times[label] = (elapsed, floor, python, server)
            target = TARGETS.get(label)
            line = f"{label:<26} {elapsed:8.2f}s {rows / elapsed:9.0f}"
            if floor:
                ratio = elapsed / floor
                verdict = (f"<= {target}x {'met' if ratio <= target else 'MISSED'}"
                           if target else "")
                line += f" {floor:10.3f}s {ratio:6.1f}x  {verdict}"
            print(line, flush=True)
            print(f"    {result.summary()}; CPU: Python {python:.2f} s"
                  + (f", PostgreSQL {server:.2f} s" if backends else ""), flush=True)
        checked, broken = verify_chain()
        chain = f"{checked} events verify" if broken is None else f"BROKEN: {broken}"
    return {"times": times, "chain": chain,
            "contents": contents(psql_url) if psql_url else None}


def _backend_pids(psql_url: str | None) -> list[int]:
    """The server processes of the scratch database's connections (the import's pool; the
    import may check out any of them)."""
    if not psql_url:
        return []
    import psycopg

    from portal.extensions import db  # lazy: as run_passes, which calls this

    db.session.commit()
    with psycopg.connect(psql_url) as conn:
        return [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]


def _server_ticks(pids: list[int]) -> int:
    """CPU clock ticks (user + system) of PostgreSQL server processes on this host."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def _feeds(workdir: str, rows: int) -> tuple[str, str]:
    first, changed = os.path.join(workdir, "feed.csv"), os.path.join(workdir, "changed.csv")
    if not os.path.exists(first):
        write_feed(first, rows)
        write_feed(changed, rows, principal_bump=7, as_of="2026-11-29")
    return first, changed


def against(rev: str, rows: int, rounds: int) -> None:
    """REV and this tree side by side (see the module's docstring)."""
    import json

    work = tempfile.mkdtemp(prefix="portal-bench-import-")
    old_tree = os.path.join(work, "old")
    subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", "--quiet", old_tree, rev],
                   check=True)
    trees = {"old": old_tree, "new": HERE}
    for tree in trees.values():  # the fresh checkout's modules compiled before, not in, a pass
        subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(tree, "portal")],
                       check=False)
    base = os.environ.get("BENCH_DB_NAME", "portal_bench_import")
    _feeds(work, rows)
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    try:
        for round_ in range(rounds):
            for label in (("old", "new") if round_ % 2 == 0 else ("new", "old")):
                print(f"-- round {round_ + 1}, {label} ({rev if label == 'old' else 'this tree'})",
                      flush=True)
                env = dict(os.environ, BENCH_TREE=trees[label], BENCH_DB_NAME=f"{base}_{label}",
                           PORTAL_INSTANCE_PATH=os.path.join(work, label))
                child = subprocess.run([sys.executable, os.path.abspath(__file__), str(rows),
                                        "--child", work], env=env, capture_output=True, text=True)
                if child.returncode:
                    sys.exit(f"the {label} tree failed:\n{child.stdout}{child.stderr}")
                out = child.stdout
                report, result = out.split("RESULT ", 1)
                print(report, end="", flush=True)
                runs[label].append(json.loads(result))
        print(f"\nold = {rev}, new = this tree; {rows:,} rows, {rounds} round(s)")
        print("medians; CPU = Python process + the database's server processes")
        print(f"{'pass':<26} {'old ratio':>10} {'new ratio':>10} {'old s':>8} {'new s':>8} "
              f"{'new/old time':>13} {'old CPU':>8} {'new CPU':>8} {'new/old CPU':>12}")
        for label in runs["new"][0]["times"]:
            old = [r["times"][label] for r in runs["old"]]
            new = [r["times"][label] for r in runs["new"]]
            o_ratio = statistics.median(t[0] / t[1] for t in old)
            n_ratio = statistics.median(t[0] / t[1] for t in new)
            o_s, n_s = statistics.median(t[0] for t in old), statistics.median(t[0] for t in new)
            o_c = statistics.median(t[2] + t[3] for t in old)
            n_c = statistics.median(t[2] + t[3] for t in new)
            print(f"{label:<26} {o_ratio:9.1f}x {n_ratio:9.1f}x {o_s:8.2f} {n_s:8.2f} "
                  f"{n_s / o_s:13.2f} {o_c:8.2f} {n_c:8.2f} {n_c / o_c:12.2f}")
        same = all(r["contents"] == runs["old"][0]["contents"] for r in runs["old"] + runs["new"])
        print("contents (" + ", ".join(f"{t} {n}" for t, (n, _) in
                                       runs["new"][0]["contents"].items()) + "): "
              + ("the same in both trees" if same else "DIFFERENT"))
        if not same:
            for label in ("old", "new"):
                print(f"  {label}: {runs[label][0]['contents']}")
        print("audit chains: " + ", ".join(f"{label} {r['chain']}" for label in ("old", "new")
                                           for r in runs[label]))
    finally:
        subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", old_tree],
                       check=False)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="the feed import against psql \\copy")
    parser.add_argument("rows", nargs="?", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--against", metavar="REV")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", metavar="WORKDIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against:
        against(args.against, args.rows, args.rounds)
    elif args.child:
        import json

        os.makedirs(os.environ["PORTAL_INSTANCE_PATH"], exist_ok=True)
        result = run_passes(args.rows, False, os.environ["PORTAL_INSTANCE_PATH"],
                            *_feeds(args.child, args.rows))
        print("RESULT " + json.dumps(result, default=str))
    else:
        workdir = tempfile.mkdtemp(prefix="portal-bench-")
        run_passes(args.rows, args.sqlite, workdir, *_feeds(workdir, args.rows))


if __name__ == "__main__":
    main()
