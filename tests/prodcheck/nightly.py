"""The nightly run through the job engine, with a worker killed (SIGKILL) in the middle of a
chunk: the message goes back to RabbitMQ, another worker redoes the chunk, and every account
ends processed once, up to the last day that has ended where its cardholder lives."""
from __future__ import annotations

import threading
import time

from celery import Celery

from tests.integration.jobs_helpers import BROKER_URL, wait_for
from tests.prodcheck.db import rows, scalar

ACTIVE = "('open', 'blocked')"
# Accounts with a local day to process at a moment: what `portal.jobs.nightly._due` claims.
DUE = f"""
SELECT count(*) FROM account a JOIN cardholder c ON c.id = a.cardholder_id
LEFT JOIN account_nightly_state s ON s.account_id = a.id
WHERE a.status IN {ACTIVE} AND (s.last_processed_day IS NULL OR
      s.last_processed_day < (coalesce(%s, now()) AT TIME ZONE c.timezone)::date - 1)"""


def send_task(queue: str, name: str) -> None:
    """What beat sends at the scheduled minute, on this run's queue."""
    producer = Celery("prodcheck", broker=BROKER_URL)
    producer.conf.update(task_default_queue=queue, task_default_exchange=queue,
                         task_default_routing_key=queue)
    with producer.connection_for_write() as conn:
        producer.send_task(name, connection=conn)


def due_accounts() -> int:
    return scalar(DUE, None)


def chunk_in_progress() -> dict | None:
    """A chunk that has committed a batch and is still running (the moment to kill)."""
    found = rows("SELECT id, worker, attempts, counts->>'accounts_processed' AS done FROM job_run "
                 "WHERE job = 'nightly chunk' AND status = 'running' "
                 "AND coalesce((counts->>'accounts_processed')::int, 0) > 0 ORDER BY id LIMIT 1")
    return found[0] if found else None


def finished_run(since_id: int) -> dict | None:
    found = rows("SELECT * FROM job_run WHERE job = 'nightly' AND parent_id IS NULL AND id > %s "
                 "AND status IN ('succeeded', 'failed') ORDER BY id", since_id)
    return found[0] if found else None


def runs_since(since_id: int) -> list[dict]:
    return rows("SELECT id, status, counts, error, started_at FROM job_run "
                "WHERE job = 'nightly' AND parent_id IS NULL AND id > %s ORDER BY id", since_id)


def unfinished_runs(since_id: int) -> int:
    return scalar("SELECT count(*) FROM job_run WHERE job = 'nightly' AND parent_id IS NULL "
                  "AND id > %s AND status NOT IN ('succeeded', 'failed')", since_id)


def chunks(run_id: int) -> list[dict]:
    return rows("SELECT * FROM job_run WHERE parent_id = %s ORDER BY id", run_id)


def last_run_id() -> int:
    return scalar("SELECT coalesce(max(id), 0) FROM job_run")


def accounts_behind(moment) -> list[dict]:
    """Active accounts not processed up to their cardholder's last day ended at `moment`."""
    return rows(DUE.replace("SELECT count(*)", "SELECT a.id, c.timezone, s.last_processed_day"),
                moment)


def doubled_interest() -> list[dict]:
    """Days of interest posted twice on one account (each source_ref is unique already)."""
    return rows("SELECT account_id, effective_date, count(*) AS n FROM ledger_entry "
                "WHERE kind = 'interest' GROUP BY account_id, effective_date "
                "HAVING count(*) > 1 LIMIT 5")


def interest_days(zone: str) -> dict[str, int]:
    """Days of interest posted since its statement (feed_as_of) per fed account in `zone`."""
    found = rows("SELECT a.account_number, count(e.id) AS days FROM account a "
                 "JOIN cardholder c ON c.id = a.cardholder_id LEFT JOIN ledger_entry e "
                 "ON e.account_id = a.id AND e.kind = 'interest' AND e.effective_date > "
                 "a.feed_as_of WHERE c.customer_id LIKE 'PRODCHECK-%%' AND c.timezone = %s "
                 "GROUP BY a.account_number", zone)
    return {row["account_number"]: row["days"] for row in found}


def wait_for_chunk(timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # polled often: a batch takes a fraction of a second
        found = chunk_in_progress()
        if found:
            return found
        threading.Event().wait(0.02)
    raise AssertionError(f"no nightly chunk was seen running within {timeout}s")


def wait_for_run(since_id: int, timeout: float = 150) -> dict:
    return wait_for(lambda: finished_run(since_id), timeout, "the nightly run to end")
