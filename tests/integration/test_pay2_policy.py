"""Payment policy comes from the profile's "payments" section (the version in force on the
account's own date); the code defaults only fill what a version lacks."""
from __future__ import annotations

import copy
import logging
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy.exc import OperationalError

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.payments import autopay, policy as payment_policy, services
from portal.policy.rules import PolicyInvalid, validate_document
from portal.policy.services import publish, shipped_document
from portal.timeutil import utcnow
from tests.integration.payment_helpers import make_active_plan, only_payment
from tests.integration.test_autopay_jobs import autopay_on

CURRENT = {"minimum_other_amount": {"CNY": 1000, "HKD": 1000, "USD": 500, "default": 100},
           "autopay_retry_days": [2, 5],
           "wallets": {"CNY": ["alipay", "wechat_pay"], "HKD": ["alipay", "wechat_pay"]}}


def _publish(profile, *, without_section=False, **changes):
    """A new version of `profile` in force from today (UTC) with its payments section changed,
    or without one, as in versions published before the section existed."""
    doc = shipped_document(profile)
    if without_section:
        doc.pop("payments")
    else:
        doc["payments"] = dict(doc["payments"], **changes)
    row = publish(profile, doc, utcnow().date())
    _db.session.commit()
    return row


@pytest.mark.parametrize("profile", ["cn", "us"])
def test_shipped_profiles_carry_the_payments_section_with_the_current_values(db, profile):
    doc = shipped_document(profile)
    assert validate_document(doc) == []
    assert {k: v for k, v in doc["payments"].items() if k != "rule"} == CURRENT
    assert doc["payments"]["rule"].strip()


def test_the_values_are_read_from_the_profile_not_the_code(db, monkeypatch):
    monkeypatch.setattr(payment_policy, "DEFAULTS", {
        "minimum_other_amount": {"default": 1}, "autopay_retry_days": [9], "wallets": {}})
    read = payment_policy.payments_policy("cn", date(2026, 12, 1))
    assert {k: read[k] for k in CURRENT} == CURRENT


def test_a_version_without_the_section_falls_back_to_the_defaults(db):
    _publish("cn", without_section=True)
    read = payment_policy.payments_policy("cn", utcnow().date() + timedelta(days=1))
    assert read == payment_policy.DEFAULTS


def test_a_partial_section_keeps_the_defaults_for_what_it_lacks(db):
    doc = shipped_document("us")
    doc["payments"] = {"autopay_retry_days": [1]}
    publish("us", doc, utcnow().date())
    read = payment_policy.payments_policy("us", utcnow().date() + timedelta(days=1))
    assert read["autopay_retry_days"] == [1]
    assert read["minimum_other_amount"] == CURRENT["minimum_other_amount"]
    assert read["wallets"] == CURRENT["wallets"]


@pytest.mark.parametrize("key,bad", [("autopay_retry_days", "2,5"),
                                     ("autopay_retry_days", [2, -1]),
                                     ("minimum_other_amount", {"CNY": 10.5}),
                                     ("wallets", {"CNY": "alipay"})])
def test_a_version_with_an_unusable_value_is_not_published(db, key, bad):
    doc = shipped_document("cn")
    doc["payments"] = dict(doc["payments"], **{key: bad})
    with pytest.raises(PolicyInvalid) as refused:
        publish("cn", doc, utcnow().date())
    assert [(e.code, e.path) for e in refused.value.errors] == [("invalid", f"payments.{key}")]
    assert payment_policy.payments_policy("cn", utcnow().date() + timedelta(days=1)) == CURRENT


def test_a_version_stored_before_the_check_still_loads_and_falls_back(db, caplog, monkeypatch):
    from portal.policy.models import PolicyVersion
    from portal.policy.services import policy_for

    # The migrations' logging setup (run by the app fixture) disables loggers made before it.
    monkeypatch.setattr(payment_policy.log, "disabled", False)
    doc = shipped_document("cn")
    doc["payments"] = dict(doc["payments"], wallets={"CNY": "alipay"})
    tomorrow = utcnow().date() + timedelta(days=1)
    doc.update(version=2, effective_from=tomorrow.isoformat())
    _db.session.add(PolicyVersion(profile="cn", version=2, effective_from=tomorrow, document=doc))
    _db.session.commit()
    assert policy_for("cn", tomorrow).version == 2  # the profile keeps working
    with caplog.at_level(logging.WARNING, logger="portal.payments.policy"):
        read = payment_policy.payments_policy("cn", tomorrow)
    assert read["wallets"] == CURRENT["wallets"] and "payments.wallets" in caplog.text
    assert read["autopay_retry_days"] == CURRENT["autopay_retry_days"]


def test_retry_days_may_name_the_due_date_itself(db):
    _publish("cn", autopay_retry_days=[0, 2, 5])
    read = payment_policy.payments_policy("cn", utcnow().date() + timedelta(days=1))
    assert payment_policy.retry_days(read) == [0, 2, 5]


def test_an_unknown_profile_gets_the_defaults(db):
    assert payment_policy.payments_policy("zz", date(2026, 12, 1)) == payment_policy.DEFAULTS
    assert payment_policy.payments_policy(None) == payment_policy.DEFAULTS


def test_a_failure_to_read_the_policy_is_not_hidden(db, monkeypatch):
    def down(profile, as_of):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(payment_policy, "policy_for", down)
    with pytest.raises(OperationalError):
        payment_policy.payments_policy("cn", date(2026, 12, 1))


def test_published_minimum_and_wallets_change_what_the_cardholder_is_offered(db, make_account):
    account = make_account()
    assert services.payment_options(account).minimum_other == 1000
    _publish("cn", minimum_other_amount={"CNY": 5000, "default": 100}, wallets={"CNY": ["alipay"]})
    options = services.payment_options(account)
    assert options.minimum_other == 5000 and options.wallets == ["alipay"]


def test_published_retry_days_change_the_autopay_schedule(db, make_account):
    account = make_account()  # Shanghai: its date is never behind the UTC date
    yesterday = today_for(account) - timedelta(days=1)
    make_active_plan(account, [30_000, 30_000], yesterday)
    autopay_on(account)
    assert autopay.run_autopay() == {}  # the default schedule tries on days 0, 2 and 5
    _publish("cn", autopay_retry_days=[1, 3])
    assert autopay.run_autopay() == {"succeeded": 1}
    assert only_payment(account.id).amount == 30_000


def test_the_decline_message_names_the_next_try_from_the_published_schedule(
        db, make_account, outbox):
    account = make_account()
    due = today_for(account)
    make_active_plan(account, [30_000], due)
    autopay_on(account, "4000000000000341")  # declined when charged
    _publish("cn", autopay_retry_days=[3, 6])
    assert autopay.run_autopay() == {"failed": 1}
    declined = [m for m in outbox() if "did not go through" in m["body"]]
    assert len(declined) == 1
    retry = format_date(due + timedelta(days=3), "long", locale="en")  # the reader's own format
    assert f"We will try again on {retry}." in declined[0]["body"]


def test_the_shipped_document_is_not_changed_by_reading_it(db):
    before = copy.deepcopy(shipped_document("cn")["payments"])
    payment_policy.payments_policy("cn", date(2026, 12, 1))["autopay_retry_days"].append(99)
    assert shipped_document("cn")["payments"] == before
    assert payment_policy.payments_policy("cn", date(2026, 12, 1))["autopay_retry_days"] == [2, 5]
