"""Posting throughput: signed sandbox webhooks per second on PostgreSQL (30% duplicates), beside
pgbench's simple-update rate measured in the same run; checks zero double postings.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/bench_payments .venv/bin/python bench/webhooks.py [N]
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PORTAL_ENV", "development")


def pgbench_tps(url) -> float:
    u = make_url(url)
    scratch = f"{u.database}_pgbench"
    args = ["-h", u.host or "127.0.0.1", "-U", u.username or "postgres"]
    subprocess.run(["dropdb", *args, "--if-exists", scratch], check=True)
    subprocess.run(["createdb", *args, scratch], check=True)
    subprocess.run(["pgbench", *args, "-i", "-q", "-s", "1", scratch], check=True,
                   capture_output=True)
    out = subprocess.run(["pgbench", *args, "-N", "-c", "2", "-j", "2", "-T", "10", scratch],
                         check=True, capture_output=True, text=True).stdout
    subprocess.run(["dropdb", *args, scratch], check=True)
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def main(n: int = 2000) -> None:
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_payments")
    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')
    from flask_migrate import upgrade

    from portal import create_app
    from portal.accounts.models import Account, Cardholder, EntryKind, LedgerEntry
    from portal.extensions import db
    from portal.payments import services, webhooks
    from portal.payments.models import Payment, SandboxIntent
    from portal.payments.sandbox import event_for, signed

    app = create_app({"SQLALCHEMY_DATABASE_URI": u.set(drivername="postgresql+psycopg")
                      .render_as_string(hide_password=False), "OUTBOX_DIR": "/tmp/bench-outbox"})
    with app.app_context():
        upgrade(revision="heads")
        holder = Cardholder(customer_id="B1", full_name="Bench", date_of_birth=date(1980, 1, 1),
                            email="bench@example.com", timezone="UTC")
        deliveries = []
        for i in range(n // 10):
            account = Account(account_number=f"B{i:09d}", card_last4="4242", cardholder=holder,
                              currency="CNY", credit_limit=10**7, policy_profile="cn",
                              minimum_due=10**6, feed_as_of=date(2026, 1, 1))
            db.session.add(account)
            db.session.flush()
            db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.STATEMENT_BALANCE,
                                       component="principal", amount=10**8, currency="CNY",
                                       effective_date=date(2026, 1, 1), source_ref="open"))
            for _ in range(10):
                payment = services.open_payment(account, choice="other", other_amount=1000,
                                                currency="CNY", nonce=services.issue_nonce(account))
                services.ensure_intent(payment)
                row = db.session.get(SandboxIntent, payment.provider_ref)
                row.status = "succeeded"
                deliveries.append(signed(event_for(row, "payment_intent.succeeded")))
        db.session.commit()
        stream = deliveries + random.sample(deliveries, int(len(deliveries) * 0.3 / 0.7))
        random.shuffle(stream)
        start = time.perf_counter()
        for payload, signature in stream:
            webhooks.receive(payload, signature)
            db.session.commit()
        elapsed = time.perf_counter() - start
        posted = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                   .where(LedgerEntry.kind == EntryKind.PAYMENT))
        succeeded = db.session.scalar(select(func.count()).select_from(Payment)
                                      .where(Payment.status == "succeeded"))
        doubles = posted - succeeded  # one principal entry per payment here
    tps = pgbench_tps(url)
    print(f"webhooks: {len(stream)} deliveries ({len(stream) - len(deliveries)} duplicates) in "
          f"{elapsed:.1f}s = {len(stream) / elapsed:.0f}/s; posted {succeeded} payments; "
          f"double postings: {doubles}")
    print(f"pgbench -N (simple update), same server: {tps:.0f} tps")
    sys.exit(1 if doubles else 0)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
