"""Pure payment rules: allocation never posts more than paid or owed; reversals never exceed
what was paid; webhook signatures."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, strategies as st

from portal.payments import signing
from portal.payments.rules import payment_split, plan_unwind, reversal_split
from portal.payments.states import PAYMENT_MACHINE, PaymentStatus

owed_st = st.fixed_dictionaries({c: st.integers(0, 10**9) for c in ("fee", "interest", "principal")})


@given(amount=st.integers(1, 10**10), owed=owed_st)
def test_allocation_never_posts_more_than_paid_or_owed_and_the_ledger_balances(amount, owed):
    split = payment_split(amount, owed)
    applied = split["fee"] + split["interest"] + split["principal"]
    assert applied <= min(amount, sum(owed.values()))
    assert all(split[c] <= owed[c] for c in owed)
    assert applied + split["unapplied"] == amount  # every unit paid is posted exactly once
    if split["interest"] or split["principal"]:
        assert split["fee"] == owed["fee"]  # fees first


@given(parts=st.lists(st.integers(0, 10**6), min_size=1, max_size=4), data=st.data())
def test_reversal_takes_at_most_what_each_entry_still_has(parts, data):
    total = sum(parts)
    if total == 0:
        with pytest.raises(ValueError):
            reversal_split(1, list(enumerate(parts)))
        return
    amount = data.draw(st.integers(1, total))
    taken = reversal_split(amount, list(enumerate(parts)))
    assert sum(t for _, t in taken) == amount
    assert all(t <= parts[k] for k, t in taken)
    with pytest.raises(ValueError):
        reversal_split(total + 1, list(enumerate(parts)))


def test_plan_unwind_reopens_newest_instalment_first_and_not_twice():
    applied = [[1, 100], [2, 50]]
    assert plan_unwind(80, applied) == [[2, 50], [1, 30]]
    assert plan_unwind(200, applied, already=[[2, 50], [1, 30]]) == [[1, 70]]


def test_posted_payment_can_only_be_refunded():
    assert PAYMENT_MACHINE.allowed_from(PaymentStatus.SUCCEEDED) == {PaymentStatus.REFUNDED}
    assert not PAYMENT_MACHINE.can(PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)


def test_signature_verifies_only_with_the_right_secret_and_a_fresh_timestamp():
    payload = b'{"id": "evt_1"}'
    header = signing.sign(payload, "whsec_a")
    assert signing.verify(payload, header, "whsec_a")
    assert not signing.verify(payload, header, "whsec_b")
    assert not signing.verify(payload + b" ", header, "whsec_a")
    old = signing.sign(payload, "whsec_a", int(time.time()) - 3600)
    assert not signing.verify(payload, old, "whsec_a")
    assert not signing.verify(payload, None, "whsec_a")
