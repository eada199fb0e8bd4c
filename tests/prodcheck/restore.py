"""Backup and a tested restore (docs/operators-guide.md, "Backup and restore"): `pg_dump -Fc`
of the live database, `pg_restore` into a fresh one, then the restored copy must verify
(`flask audit verify`, with the same AUDIT_KEYS) and show the same balances."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from tests.prodcheck.db import rows
from tests.prodcheck.stack import ROOT, database_url, recreate_database

TABLES = ("account", "ledger_entry", "payment", "audit_event", "audit_stream_head", "job_run",
          "outbox_message")


def dump(url: str, path: str) -> int:
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", path, url], check=True,
                   capture_output=True, text=True, timeout=120)
    return os.path.getsize(path)


def restore(path: str, url: str) -> None:
    recreate_database(url)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url, path],
                   check=True, capture_output=True, text=True, timeout=120)


def table_counts(url: str) -> dict[str, int]:
    return {table: rows(f"SELECT count(*) AS n FROM {table}", url=url)[0]["n"]
            for table in TABLES}


def balances(stack, url: str, as_of: date) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.prodcheck.balances", as_of.isoformat()],
                          cwd=ROOT, env=stack.environ(DATABASE_URL=url),
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise AssertionError(f"reading balances from {url} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def check_restore(stack, log) -> None:
    """Dump the live database, restore it into a fresh one, verify and compare."""
    live, copy = database_url(), database_url("_restored")
    path = os.path.join(stack.tmp, "portal.dump")
    log(f"pg_dump -Fc {live} ({dump(live, path):,} bytes)")
    restore(path, copy)
    log(f"pg_restore into {copy}")
    today = date.today()
    with ThreadPoolExecutor(4) as pool:  # four children, each loading the app: at once
        verified = [pool.submit(stack.flask, "audit", "verify", env=stack.environ(
            DATABASE_URL=url)) for url in (live, copy)]
        before, after = (pool.submit(balances, stack, url, today) for url in (live, copy))
        verified = [v.result().stdout.strip() for v in verified]
        before, after = before.result(), after.result()
    log(f"flask audit verify on the live database: {verified[0]}; on the restored copy: "
        f"{verified[1]}")
    counts = table_counts(live), table_counts(copy)
    if counts[0] != counts[1]:
        raise AssertionError(f"rows differ after the restore: {counts[0]} != {counts[1]}")
    if before != after or not before:
        raise AssertionError(f"balances differ after the restore:\n{before}\n{after}")
    log(f"same rows ({', '.join(f'{t} {n}' for t, n in counts[0].items())}) and the same "
        f"balances for all {len(before)} accounts")
