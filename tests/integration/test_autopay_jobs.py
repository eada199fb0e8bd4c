"""The autopay job charges by the account's own calendar day, and both payment jobs run from the
operator CLI (`flask --app wsgi jobs autopay|reconcile`) and print what they did."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import autopay
from portal.payments.models import Payment, PaymentChoice, SandboxIntent
from portal.payments.sandbox import SandboxGateway
from portal.payments.states import PaymentStatus
from tests.integration.payment_helpers import make_active_plan, only_payment, payment_entries
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)

# 17:00 UTC on 9 December is 01:00 on 10 December in Shanghai and 12:00 on 9 December in
# New York.
NOW = datetime(2026, 12, 9, 17, 0, tzinfo=timezone.utc)
UTC_DAY, SHANGHAI_DAY = date(2026, 12, 9), date(2026, 12, 10)


def autopay_on(account, card="4242424242424242"):
    """A card saved for autopay through the app's own setup (sandbox provider)."""
    intent = autopay.start_setup(account, f"nonce-{account.id}")
    SandboxGateway().confirm_setup_with_card(intent.ref, card)
    mandate = autopay.complete_setup(account, intent.ref, "I allow the card issuer to charge ...")
    db.session.commit()
    assert mandate is not None and mandate.active
    return mandate


def _payments() -> list[Payment]:
    db.session.expire_all()
    return db.session.scalars(select(Payment).order_by(Payment.id)).all()


def test_the_instalment_due_on_the_local_date_is_charged_not_the_utc_one(
        make_account, make_cardholder):
    shanghai = make_account(make_cardholder(timezone="Asia/Shanghai"))
    due_local = make_active_plan(shanghai, [30_000, 30_000], SHANGHAI_DAY).instalments[0]
    shanghai_late = make_account(make_cardholder(timezone="Asia/Shanghai"))
    make_active_plan(shanghai_late, [20_000, 20_000], UTC_DAY)  # yesterday, in Shanghai
    new_york = make_account(make_cardholder(timezone="America/New_York"),
                            profile="us", currency="USD")
    due_ny = make_active_plan(new_york, [25_000, 25_000], UTC_DAY).instalments[0]
    new_york_early = make_account(make_cardholder(timezone="America/New_York"),
                                  profile="us", currency="USD")
    make_active_plan(new_york_early, [15_000, 15_000], SHANGHAI_DAY)  # tomorrow, in New York
    for account in (shanghai, shanghai_late, new_york, new_york_early):
        autopay_on(account)

    assert autopay.run_autopay(now=NOW) == {"succeeded": 2}
    charged = {p.account_id: p for p in _payments()}
    assert set(charged) == {shanghai.id, new_york.id}
    assert charged[shanghai.id].instalment_id == due_local.id
    assert charged[shanghai.id].amount == 30_000
    assert charged[shanghai.id].idempotency_key.endswith(SHANGHAI_DAY.isoformat())
    assert charged[new_york.id].instalment_id == due_ny.id
    assert charged[new_york.id].idempotency_key.endswith(UTC_DAY.isoformat())
    db.session.expire_all()
    assert due_local.status.value == "paid" and due_ny.status.value == "paid"
    # An hour later it is still the same local day everywhere: nothing is charged twice.
    assert autopay.run_autopay(now=NOW + timedelta(hours=1)) == {}


def test_the_day_before_the_local_due_date_charges_nothing(make_account, make_cardholder):
    shanghai = make_account(make_cardholder(timezone="Asia/Shanghai"))
    make_active_plan(shanghai, [30_000], SHANGHAI_DAY)
    autopay_on(shanghai)
    assert autopay.run_autopay(now=NOW - timedelta(hours=2)) == {}  # 23:00 on 9 Dec in Shanghai
    assert _payments() == []
    assert autopay.run_autopay(now=NOW - timedelta(hours=1)) == {"succeeded": 1}  # 00:00 10 Dec


def test_jobs_autopay_from_the_cli_charges_once_and_prints_the_counts(runner, make_account):
    account = make_account()
    make_active_plan(account, [30_000, 30_000], today_for(account))
    autopay_on(account)
    result = runner.invoke(args=["jobs", "autopay"])
    assert result.exit_code == 0, result.output
    assert result.output == "autopay: {'succeeded': 1}\n"
    assert payment_entries(account.id) == -30_000
    again = runner.invoke(args=["jobs", "autopay"])
    assert again.exit_code == 0 and again.output == "autopay: {}\n"
    assert payment_entries(account.id) == -30_000


def test_jobs_autopay_from_the_cli_reports_a_decline(runner, make_account, outbox):
    account = make_account()
    make_active_plan(account, [30_000], today_for(account))
    autopay_on(account, "4000000000000341")  # saves fine, declined when charged
    result = runner.invoke(args=["jobs", "autopay"])
    assert result.exit_code == 0 and result.output == "autopay: {'failed': 1}\n"
    assert payment_entries(account.id) == 0
    assert any("did not go through" in m["body"] for m in outbox())


@pytest.fixture()
def lost_webhook(started):
    """A payment the provider took, whose webhook never arrived, last touched 20 minutes ago."""
    db.session.get(SandboxIntent, started.provider_ref).status = "succeeded"
    db.session.execute(Payment.__table__.update().where(Payment.__table__.c.id == started.id)
                       .values(updated_at=datetime.now(timezone.utc) - timedelta(minutes=20)))
    db.session.commit()
    return started


def _summary(**posted) -> str:
    counts = {"posted": 0, "failed": 0, "canceled": 0, "unchanged": 0, "unavailable": 0}
    return f"reconcile: {dict(counts, **posted)}\n"


def test_jobs_reconcile_from_the_cli_posts_a_lost_payment_once(runner, lost_webhook):
    waiting = runner.invoke(args=["jobs", "reconcile", "--older-than", "30"])
    assert waiting.exit_code == 0 and waiting.output == _summary()
    assert payment_entries(lost_webhook.account_id) == 0
    result = runner.invoke(args=["jobs", "reconcile"])  # default: 15 minutes
    assert result.exit_code == 0, result.output
    assert result.output == _summary(posted=1)
    assert only_payment(lost_webhook.account_id).status.value == "succeeded"
    assert payment_entries(lost_webhook.account_id) == -lost_webhook.amount
    again = runner.invoke(args=["jobs", "reconcile"])
    assert again.output == _summary()
    assert payment_entries(lost_webhook.account_id) == -lost_webhook.amount


def test_reconcile_older_than_zero_means_every_unfinished_payment(runner, started):
    # `started` was opened just now: not 15 minutes old.
    assert runner.invoke(args=["jobs", "reconcile"]).output == _summary()
    result = runner.invoke(args=["jobs", "reconcile", "--older-than", "0"])
    assert result.output == _summary(unchanged=1)
    refused = runner.invoke(args=["jobs", "reconcile", "--older-than", "-5"])
    assert refused.exit_code != 0 and "older-than" in refused.output


def test_the_payment_jobs_are_also_under_flask_payments(runner, make_account):
    account = make_account()
    make_active_plan(account, [30_000], today_for(account))
    autopay_on(account)
    assert runner.invoke(args=["payments", "autopay"]).output == "autopay: {'succeeded': 1}\n"
    assert runner.invoke(args=["payments", "reconcile"]).output == _summary()


def test_autopay_skips_an_instalment_while_a_manual_payment_waits_for_3d_secure(
        make_account, make_cardholder):
    # Issue 11, item 6: the cardholder pays the instalment by hand and is asked to authenticate;
    # meanwhile autopay charged the same instalment again (CN¥600 taken for CN¥300).
    account = make_account(make_cardholder(timezone="Asia/Shanghai"))
    make_active_plan(account, [30_000, 30_000], SHANGHAI_DAY)
    autopay_on(account)
    manual = Payment(account_id=account.id, choice=PaymentChoice.INSTALMENT, amount=30_000,
                     currency=account.currency, provider="sandbox", idempotency_key="tab-1",
                     status=PaymentStatus.REQUIRES_ACTION)
    db.session.add(manual)
    db.session.commit()
    assert autopay.run_autopay(now=NOW) == {"busy": 1}
    assert [p.id for p in _payments()] == [manual.id]
