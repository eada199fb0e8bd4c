import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.allocation import DEFAULT_ORDER, allocate, allocate_to_instalments


def test_payment_goes_to_fees_then_interest_then_principal():
    owed = {"fee": 2_500, "interest": 1_000, "principal": 50_000}
    assert allocate(3_000, owed) == {"fee": 2_500, "interest": 500, "principal": 0, "unapplied": 0}
    assert allocate(10_000, owed) == {"fee": 2_500, "interest": 1_000, "principal": 6_500, "unapplied": 0}


def test_overpayment_is_left_unapplied():
    owed = {"fee": 100, "interest": 200, "principal": 300}
    assert allocate(1_000, owed) == {"fee": 100, "interest": 200, "principal": 300, "unapplied": 400}


def test_custom_order_is_followed_and_missing_components_owe_nothing():
    result = allocate(500, {"principal": 400}, order=("principal", "interest", "fee"))
    assert result == {"principal": 400, "interest": 0, "fee": 0, "unapplied": 100}
    assert list(result) == ["principal", "interest", "fee", "unapplied"]


@pytest.mark.parametrize(
    ("amount", "owed", "order"),
    [
        (-1, {"fee": 1}, DEFAULT_ORDER),
        (10, {"fee": -1}, DEFAULT_ORDER),
        (10, {"penalty": 5}, DEFAULT_ORDER),  # would be skipped silently
        (10, {"fee": 5}, ("fee", "fee")),
        (10, {"fee": 5}, ("fee", "unapplied")),
    ],
)
def test_invalid_allocation_inputs_are_refused(amount, owed, order):
    with pytest.raises(ValueError):
        allocate(amount, owed, order)


def test_payment_goes_to_oldest_instalment_first_and_lists_only_those_paid():
    outstanding = [(2, 3_000), (3, 3_000), (4, 3_334)]
    assert allocate_to_instalments(4_000, outstanding) == ([(2, 3_000), (3, 1_000)], 0)
    assert allocate_to_instalments(10_000, outstanding) == ([(2, 3_000), (3, 3_000), (4, 3_334)], 666)
    assert allocate_to_instalments(0, outstanding) == ([], 0)
    assert allocate_to_instalments(500, []) == ([], 500)


def test_already_paid_instalments_are_skipped():
    assert allocate_to_instalments(100, [(1, 0), (2, 50), (3, 80)]) == ([(2, 50), (3, 50)], 0)


def test_invalid_instalment_inputs_are_refused():
    with pytest.raises(ValueError):
        allocate_to_instalments(-1, [(1, 10)])
    with pytest.raises(ValueError):
        allocate_to_instalments(5, [(1, -10)])
    with pytest.raises(ValueError):
        allocate_to_instalments(5, [(1, 10), (1, 10)])


AMOUNTS = st.integers(min_value=0, max_value=10**12)


@given(AMOUNTS, st.fixed_dictionaries({c: AMOUNTS for c in DEFAULT_ORDER}))
@settings(deadline=None, database=None)
def test_allocation_never_posts_more_than_paid_or_owed(amount, owed):
    result = allocate(amount, owed)
    assert sum(result.values()) == amount
    assert all(0 <= result[c] <= owed[c] for c in DEFAULT_ORDER)
    assert result["unapplied"] == max(0, amount - sum(owed.values()))
    # a later component only gets money once every earlier one is fully paid
    for earlier, later in zip(DEFAULT_ORDER, DEFAULT_ORDER[1:]):
        if result[later] > 0:
            assert result[earlier] == owed[earlier]


@given(AMOUNTS, st.lists(st.integers(min_value=0, max_value=10**9), max_size=30))
@settings(deadline=None, database=None)
def test_allocate_to_instalments_never_over_posts_an_instalment(amount, dues):
    outstanding = list(enumerate(dues, start=1))
    applied, remainder = allocate_to_instalments(amount, outstanding)
    due_by_seq = dict(outstanding)
    assert sum(a for _, a in applied) + remainder == amount
    assert all(0 < a <= due_by_seq[seq] for seq, a in applied)
    assert remainder == max(0, amount - sum(dues))
    # oldest first: every instalment before the last one paid is fully paid
    paid = dict(applied)
    last_paid = max(paid, default=0)
    assert all(paid.get(seq, 0) == due for seq, due in outstanding if seq < last_paid)
