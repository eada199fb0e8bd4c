"""The production check, step by step (`make prod-check`; docs/operators-guide.md). Exits 0 when
every step passed, 1 at the first failure (with the last lines of every process's output).
Every process it started is killed at the end, whatever happened."""
from __future__ import annotations

import os
import re
import signal
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import requests

from portal.demo.data import CARDHOLDER_PASSWORD, CARDHOLDERS
from tests.integration.jobs_helpers import wait_for
from tests.prodcheck import nightly, payment
from tests.prodcheck.db import scalar, scalar_row
from tests.prodcheck.feed import feed_file
from tests.prodcheck.restore import check_restore
from tests.prodcheck.stack import Stack, database_url, recreate_database, s3_client

FED_ACCOUNTS = int(os.environ.get("PRODCHECK_ACCOUNTS", "600"))
FEED_AGE_DAYS = 30  # the fed statements' age: the nightly run has these days to walk
# Small chunks and batches, so that a chunk is still running when its worker is killed.
NIGHTLY = {"JOBS_NIGHTLY_CHUNK": "150", "JOBS_NIGHTLY_BATCH": "20"}
DEMO_AGE_DAYS = 3  # the demo is loaded as of this many days ago
PAYER = next(h for h in CARDHOLDERS if h.email == "emily.carter@example.com")
START = time.monotonic()
# A small PDF (checked by content on upload, like any cardholder's document).
DOCUMENT = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def step(title: str) -> None:
    print(f"\n==> [{time.monotonic() - START:6.1f}s] {title}", flush=True)


def log(text: str) -> None:
    print(f"    {text}", flush=True)


def check(condition, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def load_data(stack: Stack) -> None:
    """The demo (as of DEMO_AGE_DAYS ago, so the workers have days to process) and accounts
    fed through the import command."""
    moment = datetime.now(timezone.utc) - timedelta(days=DEMO_AGE_DAYS)
    demo = stack.environ("development", PORTAL_NOW=moment.isoformat(), OUTBOX_TRANSPORT="file",
                         SMS_TRANSPORT="file")
    path = os.path.join(stack.tmp, "feed.csv")
    feed_file(path, FED_ACCOUNTS, datetime.now(timezone.utc).date() - timedelta(days=FEED_AGE_DAYS))
    stack.flask("demo", "load", env=demo)
    done = stack.flask("accounts", "import", path)
    log(f"flask demo load, as of {moment:%Y-%m-%d %H:%M} UTC (the demo is refused in production: "
        f"loaded with PORTAL_ENV=development, the same database and audit keys)")
    log(f"flask accounts import ({FED_ACCOUNTS} accounts): {done.stdout.strip().splitlines()[-1]}")


def pay_on_a_webhook_on_b(stack: Stack, a: str, b: str) -> tuple[int, int]:
    account_id = scalar("SELECT a.id FROM account a JOIN cardholder c ON c.id = a.cardholder_id "
                        "WHERE c.email = %s", PAYER.email)
    stack.register_webhook(b + "/webhooks/payments")
    log(f"localstripe sends its signed webhooks to B ({b}/webhooks/payments)")
    browser = payment.Browser()
    payment.sign_in(browser, a, PAYER.email, CARDHOLDER_PASSWORD)
    log(f"{PAYER.full_name} signed in on A")
    page = browser.get(f"{b}/accounts/{account_id}", allow_redirects=False)
    check(page.status_code == 200, f"the session made on A does not work on B: {page.status_code}")
    log("the session made on A opens the account on B (stateless web processes)")
    payment_id, checkout = payment.start_payment(browser, a, account_id)
    check('data-secret="pi_' in checkout, "the checkout page has no Stripe intent")
    answer = payment.recheck(browser, a, checkout)
    check(answer.get("outcome") == "unchanged", f"the re-check said {answer}")
    intent = payment.pay_at_the_provider(stack.stripe_base, checkout)
    log(f"payment {payment_id}: intent {intent} confirmed at the provider")
    payment.wait_until_posted(payment_id)
    on_b = wait_for(lambda: payment.webhook_lines(stack.processes["web-b"]), 15,
                    "B's access log to show the webhook")
    on_a = payment.webhook_lines(stack.processes["web-a"])
    check(any('" 200 ' in line for line in on_b) and not on_a,
          f"the webhook should land on B only: B {on_b}, A {on_a}")
    amount = scalar("SELECT amount FROM payment WHERE id = %s", payment_id)
    posted = scalar("SELECT coalesce(sum(amount), 0) FROM ledger_entry WHERE account_id = %s "
                    "AND kind = 'payment'", account_id)
    check(posted == -amount, f"the ledger holds {posted} of payments, not {-amount}")
    log(f"the webhook landed on B ({on_b[-1].strip()[:90]}); {amount} minor units posted once")
    return account_id, payment_id


def document_on_a_read_on_b(stack: Stack, a: str, b: str) -> None:
    account_id = scalar("SELECT a.id FROM account a JOIN cardholder c ON c.id = a.cardholder_id "
                        "WHERE c.email = %s ORDER BY a.id LIMIT 1", PAYER.email)
    browser = payment.Browser()
    payment.sign_in(browser, a, PAYER.email, CARDHOLDER_PASSWORD)
    url = f"{a}/accounts/{account_id}/disputes/new"
    page = browser.get(url)
    check(page.status_code == 200, f"the dispute page answered {page.status_code}")
    answer = payment.post(browser, url, allow_redirects=False, data={
        "csrf_token": payment.form_tokens(page.text)["csrf_token"], "category": "wrong_amount",
        "amount": "10.00", "description": "Production check: a statement attached."},
        files={"attachments": ("statement.pdf", DOCUMENT, "application/pdf")})
    said = re.findall(r'class="error-message"[^>]*>([^<]*)<', answer.text)
    check(answer.status_code == 302, f"raising the dispute answered {answer.status_code}: {said}")
    dispute_id, attachment_id, key = scalar_row(
        "SELECT d.id AS dispute_id, f.id AS file_id, f.stored_name FROM dispute_attachment f "
        "JOIN dispute d ON d.id = f.dispute_id WHERE d.account_id = %s "
        "ORDER BY f.id DESC LIMIT 1", account_id)
    on_b = browser.get(f"{b}/disputes/{dispute_id}/files/{attachment_id}")
    check(on_b.status_code == 200 and on_b.content == DOCUMENT,
          f"B served {on_b.status_code}, {len(on_b.content)} bytes, not the uploaded document")
    bucket, endpoint = stack.storage["STORAGE_S3_BUCKET"], stack.storage["STORAGE_S3_ENDPOINT_URL"]
    client = s3_client(endpoint)
    found = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])
             if o["Key"].endswith(key)]
    check(len(found) == 1, f"the bucket holds {found} for {key}")
    encryption = client.head_object(Bucket=bucket, Key=found[0]).get("ServerSideEncryption")
    check(encryption in ("AES256", "aws:kms"), f"the object is not encrypted: {encryption}")
    log(f"uploaded on A, stored as s3://{bucket}/{found[0]} ({encryption}), served by B")


def receipt_arrives(stack: Stack) -> None:
    def receipt():
        return [mail for _sender, to, mail in stack.smtp.received
                if PAYER.email in to and "We received your payment" in str(mail["Subject"])]
    found = wait_for(receipt, 60, "the receipt at the SMTP server")
    log(f"SMTP server received \"{found[0]['Subject']}\" for {PAYER.email} "
        f"({len(stack.smtp.received)} messages in all, {len(stack.sms.requests)} SMS at the peer)")


def nightly_with_a_kill(stack: Stack) -> None:
    # Beat runs all along: should its hourly nightly run (minute 5) fall inside this step, it
    # shares the accounts with ours, so what follows counts every nightly run from here on.
    wait_for(lambda: not nightly.unfinished_runs(0), 120, "a nightly run in progress to end")
    since = nightly.last_run_id()
    due = nightly.due_accounts()
    check(due >= FED_ACCOUNTS, f"only {due} accounts have days to process")
    nightly.send_task(stack.queue, "portal.nightly")
    log(f"portal.nightly sent to queue {stack.queue}: {due} accounts have days to process")
    chunk = nightly.wait_for_chunk()
    victim = chunk["worker"].split("-")[0]
    stack.kill(f"worker-{victim}")
    log(f"SIGKILL to worker {victim} while its chunk {chunk['id']} had {chunk['done']} accounts "
        f"committed")
    stack.worker(f"{victim}2", **NIGHTLY)
    stack.wait_until_up()
    log(f"worker {victim}2 started in its place")
    nightly.wait_for_run(since)
    wait_for(lambda: not nightly.unfinished_runs(since), 120, "every nightly run to end")
    runs = nightly.runs_since(since)  # a run claims the days ended when it starts
    check(all(r["status"] == "succeeded" for r in runs), f"nightly runs: {runs}")
    parts = [c for r in runs for c in nightly.chunks(r["id"])]
    check(all(c["status"] == "succeeded" for c in parts), f"chunks: {parts}")
    redone = next(c for c in parts if c["id"] == chunk["id"])
    check(redone["attempts"] >= 2, f"the killed chunk was not redelivered: {redone}")
    processed = sum(r["counts"].get("accounts_processed", 0) for r in runs)
    check(processed == due, f"{processed} accounts processed, {due} were due")
    log(f"nightly run{'s' if len(runs) > 1 else ''} {', '.join(str(r['id']) for r in runs)} "
        f"succeeded: {len(parts)} chunks, chunk {redone['id']} tried {redone['attempts']} times "
        f"(last by {redone['worker'].split('-')[0]}), {processed} accounts processed, counted "
        f"once each")
    behind = nightly.accounts_behind(min(r["started_at"] for r in runs))
    check(not behind, f"accounts not processed up to their last ended day: {behind[:5]}")
    doubled = nightly.doubled_interest()
    check(not doubled, f"interest posted twice: {doubled}")
    fed_as_of = datetime.now(timezone.utc).date() - timedelta(days=FEED_AGE_DAYS)
    # The cn profile charges penalty interest every day at this stage (us: not yet).
    shanghai = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)
    expected = (shanghai - fed_as_of).days
    found = nightly.interest_days("Asia/Shanghai")
    wrong = {k: v for k, v in found.items() if v != expected}
    check(not wrong, f"fed Shanghai accounts without exactly {expected} days of interest: "
                     f"{list(wrong.items())[:5]}")
    log(f"every account processed up to its cardholder's last ended day, no day posted twice; "
        f"each of the {len(found)} fed Shanghai accounts has exactly {expected} days of interest")


def health(a: str, b: str) -> None:
    for name, base in (("A", a), ("B", b)):
        response = requests.get(base + "/healthz", timeout=10)
        check(response.status_code == 200, f"/healthz on {name}: {response.status_code}")
    jobs = requests.get(b + "/health/jobs", timeout=10)
    check(jobs.status_code == 200 and jobs.json()["nightly"]["state"] == "ok",
          f"/health/jobs: {jobs.status_code} {jobs.text}")
    log(f"/healthz 200 on A and B; /health/jobs 200: {jobs.json()}")


def drain(stack: Stack) -> None:
    """What an upgrade does first (docs/operators-guide.md): nothing new is scheduled, what runs
    finishes. Here it also keeps the database still while it is backed up and compared."""
    workers = [n for n, p in stack.processes.items()
               if n.startswith("worker-") and p.proc.poll() is None]
    for names in (["beat"], workers):
        with ThreadPoolExecutor(len(names)) as pool:
            for name, status in zip(names, pool.map(stack.stop, names)):
                check(status in (0, -signal.SIGTERM), f"{name} exited with {status} on SIGTERM")
    log(f"beat stopped, then the workers ({', '.join(workers)}): each exited on its own")


def still_running(stack: Stack) -> None:
    dead = [name for name, p in stack.processes.items()
            if p.proc.poll() is not None and name not in stack.killed]
    check(not dead, f"processes that died: {dead}")
    up = [name for name, p in stack.processes.items() if p.proc.poll() is None]
    log(f"up at the end: {', '.join(up)}")


def run(stack: Stack) -> None:
    step("PostgreSQL: a scratch database")
    recreate_database(database_url())
    log(database_url())
    step("Peers: SMTP server (aiosmtpd), SMS provider (HTTP), Stripe (localstripe), S3 (moto)")
    stack.start_peers()
    log(f"SMTP 127.0.0.1:{stack.smtp.port}; SMS {stack.sms.url}; Stripe {stack.stripe_base}; "
        f"S3 (moto) {stack.storage['STORAGE_S3_ENDPOINT_URL']}")
    step("flask db upgrade (PORTAL_ENV=production)")
    stack.flask("db", "upgrade")
    step("Data")
    load_data(stack)
    step("Two web processes (gunicorn wsgi:app), two Celery workers and beat on RabbitMQ")
    a, b = stack.gunicorn("a"), stack.gunicorn("b")
    for name in ("a", "b"):
        stack.worker(name, **NIGHTLY)
    stack.beat()
    stack.wait_until_up()
    log(f"web A {a} and B {b} answer /healthz (production settings, 2 gunicorn workers each)")
    log(f"workers a and b (one pool process each) and beat are up, on queue {stack.queue}")
    step("A cardholder signs in on A and pays; the provider's webhook lands on B")
    pay_on_a_webhook_on_b(stack, a, b)
    step("The receipt arrives at the SMTP server")
    receipt_arrives(stack)
    step("A document uploaded on A is read back on B from the object store (S3, encrypted)")
    document_on_a_read_on_b(stack, a, b)
    step("The nightly run on the workers, one of them killed in the middle")
    nightly_with_a_kill(stack)
    step("Health endpoints")
    health(a, b)
    step("Drain the job engine: beat first, then the workers (SIGTERM, warm shutdown)")
    drain(stack)
    step("Backup and a tested restore (pg_dump -Fc, pg_restore); flask audit verify on both")
    check_restore(stack, log)
    step("Every process still up (but those stopped or killed)")
    still_running(stack)


def _interrupted(signum, _frame):
    raise SystemExit(f"interrupted by signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    stack = Stack()
    status = 1
    try:
        run(stack)
        status = 0
    except BaseException as exc:  # noqa: BLE001 - report, clean up, exit non-zero
        print(f"\nFAILED: {type(exc).__name__}: {exc}", flush=True)
        traceback.print_exc()
        print(stack.logs(), flush=True)
    finally:
        stack.close()  # the scratch databases stay for a look; the next run recreates them
    step("PASSED: the production check" if status == 0 else "FAILED: the production check")
    return status
