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


# The hand-written loops these rules had before they used portal.domain.allocation, kept as
# reference oracles: the rules must give the same answers for every valid input.
def _old_reversal_split(amount, reversible):
    if amount <= 0:
        raise ValueError("a reversal must be positive")
    if amount > sum(max(0, r) for _, r in reversible):
        raise ValueError("cannot reverse more than was paid")
    taken, remaining = [], amount
    for key, still in reversible:
        part = min(remaining, max(0, still))
        if part:
            taken.append((key, part))
            remaining -= part
        if remaining == 0:
            break
    return taken


def _old_plan_unwind(amount, applied, already=()):
    left = {int(i): int(a) for i, a in applied}
    for i, a in already:
        left[int(i)] = left.get(int(i), 0) - int(a)
    out, remaining = [], amount
    for instalment_id, _ in reversed(list(applied)):
        part = min(remaining, max(0, left[int(instalment_id)]))
        if part:
            out.append([int(instalment_id), part])
            remaining -= part
        if remaining == 0:
            break
    return out


# Keys repeat on purpose (reversal_split must not care); stills may be negative (over-reversed).
reversible_st = st.lists(st.tuples(st.sampled_from("abcde"), st.integers(-50, 10**6)), max_size=6)


@given(reversible=reversible_st, amount=st.integers(-5, 3 * 10**6))
def test_reversal_split_gives_the_old_answer_and_never_takes_more_than_asked_or_left(
        reversible, amount):
    try:
        expected = _old_reversal_split(amount, reversible)
    except ValueError:
        with pytest.raises(ValueError):
            reversal_split(amount, reversible)
        return
    taken = reversal_split(amount, reversible)
    assert taken == expected
    assert sum(part for _, part in taken) == amount
    assert all(part > 0 for _, part in taken)
    for key in {k for k, _ in reversible}:
        available = sum(max(0, still) for k, still in reversible if k == key)
        assert sum(part for k, part in taken if k == key) <= available


@st.composite
def applications(draw):
    """A payment's plan application (each instalment once) and earlier reversals of it."""
    ids = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=6))
    applied = [[i, draw(st.integers(0, 10**6))] for i in ids]
    already = draw(st.lists(st.tuples(st.sampled_from(ids + [10**7]), st.integers(0, 10**6))
                            .map(list), max_size=4))
    return applied, already


@given(data=applications(), amount=st.integers(0, 5 * 10**6))
def test_plan_unwind_gives_the_old_answer_and_never_reopens_more_than_was_paid(data, amount):
    applied, already = data
    unwind = plan_unwind(amount, applied, already)
    assert unwind == _old_plan_unwind(amount, applied, already)
    assert sum(part for _, part in unwind) <= amount
    paid = dict((i, a) for i, a in applied)
    for instalment_id, part in unwind:
        earlier = sum(a for i, a in already if i == instalment_id)
        assert 0 < part <= paid[instalment_id] - earlier
    assert len({i for i, _ in unwind}) == len(unwind)


def test_plan_unwind_refuses_an_instalment_listed_twice_rather_than_reopening_it_twice():
    # apply_payment never lists an instalment twice; on such data the old loop reopened the
    # same instalment twice, each time up to the last figure listed for it.
    assert _old_plan_unwind(200, [[1, 100], [1, 50]]) == [[1, 50], [1, 50]]
    with pytest.raises(ValueError):
        plan_unwind(200, [[1, 100], [1, 50]])


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
