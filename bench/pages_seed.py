"""The child side of bench/pages.py, run in a fresh interpreter on one tree's code (BENCH_TREE):
`seed` builds the bench's cardholders, `count` measures one request of each page in-process.

    BENCH_TREE=. DATABASE_URL=... python bench/pages_seed.py seed --cardholders 200
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tree whose `portal` is measured: this one, or (with --against) the other one.
sys.path.insert(0, os.environ.get("BENCH_TREE") or HERE)

PASSWORD = "bench-password-1"  # every bench cardholder's


def _feed_rows(n: int, today: date, statement: date) -> list[dict]:
    rnd = random.Random(15)
    rows = []
    for i in range(1, n + 1):
        cn = i % 2 == 1
        for k in range(2 if i % 5 == 0 else 1):  # every fifth cardholder has two cards
            dpd = rnd.choice((0, 15, 45, 75, 120, 200)) if k == 0 else rnd.choice((0, 30))
            principal = rnd.randint(1_000, 30_000)
            rows.append({
                "account_number": f"8{i:09d}{k}", "card_last4": f"{(i * 7 + k) % 10000:04d}",
                "cardholder_id": f"BENCH-{i:06d}", "full_name": f"Bench Holder {i}",
                "date_of_birth": "1985-03-14", "phone": f"+86139{i:08d}" if cn
                else f"+1212555{i:04d}", "email": f"holder{i}@bench.example",
                "locale": "zh_Hans" if cn else "en",
                "timezone": "Asia/Shanghai" if cn else "America/New_York",
                "policy_profile": "cn" if cn else "us", "currency": "CNY" if cn else "USD",
                "credit_limit": "50000", "principal": f"{principal}.00",
                "interest": f"{rnd.randint(0, 900)}.{rnd.randint(0, 99):02d}",
                "fees": "100.00" if dpd else "0", "minimum_due": f"{principal // 10}.00",
                "oldest_unpaid_due_date": (today - timedelta(days=dpd)).isoformat() if dpd else "",
                "as_of": statement.isoformat(),
            })
    return rows


def seed(cardholders: int) -> None:
    """Migrations, then the cardholders, their history, plans and disputes (commits)."""
    from flask_migrate import upgrade
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from portal import create_app
    from portal.accounts.models import Account, Cardholder
    from portal.disputes import services as disputes
    from portal.disputes.cli import setup_queues
    from portal.extensions import db
    from portal.jobs.nightly import run_nightly
    from portal.journal.feed_io import RawRow
    from portal.journal.importer import import_rows
    from portal.plans import lifecycle
    from portal.plans.agreement import terms_hash
    from portal.plans.offers import PlanSpec
    from portal.policy.services import publish, shipped_document
    from portal.timeutil import utcnow

    app = create_app()
    with app.app_context():
        upgrade(directory=os.path.join(HERE, "migrations"), revision="heads")
        today = utcnow().date()
        for profile in ("cn", "us"):  # risk has edited each profile a few times
            for days in (90, 60, 30):
                publish(profile, shipped_document(profile), today - timedelta(days=days),
                        today=today - timedelta(days=days), note="bench")
        db.session.commit()
        rows = _feed_rows(cardholders, today, today - timedelta(days=40))
        result = import_rows(RawRow(n, values) for n, values in enumerate(rows, start=1))
        if result.rejected:
            sys.exit(f"the importer refused bench rows: {result.rejects[:3]}")
        password = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
        for holder in db.session.scalars(select(Cardholder)):
            holder.password_hash, holder.enrolled_at = password, utcnow()
        setup_queues()
        db.session.commit()
        nightly = run_nightly(today)
        plans = disputed = 0
        for account in db.session.scalars(select(Account).order_by(Account.id)).all():
            if account.id % 3 == 0:
                spec = PlanSpec(kind="instalment", count=6, frequency="monthly",
                                first_date=today + timedelta(days=7))
                try:
                    decision, policy = lifecycle.evaluate(account, spec, today)
                    ctx = lifecycle.context_for(account, policy.version,
                                                policy.limits.grace_days)
                    consent = lifecycle.Consent(terms_hash(decision.terms, ctx, "en"), "en",
                                                "127.0.0.1", "bench", utcnow())
                    lifecycle.submit(account, spec, consent, source="offer", today=today)
                    db.session.commit()
                    plans += 1
                except lifecycle.PlanError:
                    db.session.rollback()
            if account.id % 4 == 0:
                try:
                    disputes.raise_dispute(account.cardholder, account, category="wrong_amount",
                                           amount=1_000, entry_ids=[],
                                           description="The fee is not right.")
                    db.session.commit()
                    disputed += 1
                except Exception as exc:  # noqa: BLE001 - a refused dispute is only counted
                    print(f"dispute refused on account {account.id}: {exc}", file=sys.stderr)
                    db.session.rollback()
        accounts = db.session.query(Account).count()
        print(f"seeded {cardholders} cardholders, {accounts} accounts, {plans} plans, "
              f"{disputed} disputes; nightly: {nightly.line()}")


def count(holder_ids: list[int], samples: int) -> None:
    """SQL statements and in-process time of one dashboard and one timeline request."""
    from sqlalchemy import event, select

    from portal import create_app
    from portal.accounts.models import Account, Cardholder
    from portal.extensions import db
    from portal.timeutil import utcnow

    app = create_app()
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cur, statement, *a: statements.append(statement))
        holders = list(db.session.scalars(select(Cardholder).where(Cardholder.id.in_(holder_ids))))
        targets = []
        for holder in holders:
            account = db.session.scalar(select(Account).where(Account.cardholder_id == holder.id)
                                        .order_by(Account.id).limit(1))
            targets.append((holder.get_id(), holder.session_version, account.id))
        db.session.remove()
    for name, path in (("dashboard", "/home"), ("timeline", "/accounts/{}/timeline")):
        counts, times, cpu = [], [], []
        for user_id, version, account_id in targets:
            client = app.test_client()
            with client.session_transaction() as sess:
                sess.update({"_user_id": user_id, "_fresh": True, "sid": "bench", "sv": version,
                             "started": utcnow().timestamp(), "last_seen": utcnow().timestamp()})
            url = path.format(account_id)
            client.get(url)  # warm: templates compiled, caches filled
            statements.clear()
            response = client.get(url)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code} in-process")
            counts.append(len(statements))
            started, used = time.perf_counter(), time.process_time()
            for _ in range(samples):
                client.get(url)
            times.append((time.perf_counter() - started) / samples * 1000)
            cpu.append((time.process_time() - used) / samples * 1000)
        print(f"COUNT {name} {min(counts)} {max(counts)} {statistics.median(times):.2f} "
              f"{statistics.median(cpu):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("seed", "count"))
    parser.add_argument("--cardholders", type=int, default=200)
    parser.add_argument("--holders", default="", help="cardholder ids, comma-separated")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    if args.step == "seed":
        seed(args.cardholders)
    else:
        count([int(h) for h in args.holders.split(",")], args.samples)


if __name__ == "__main__":
    main()
