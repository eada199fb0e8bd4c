"""A completed plan's concession waivers: the allocation rule gives what the old hand-written
loop gave, and never waives more than the concession, the balance or a component owes."""
from hypothesis import given, strategies as st

from portal.plans.endings import waiver_split

ORDER = ("fee", "interest", "principal")


def _old_waivers(concession, total, owed):
    """The loop `complete` had before it used portal.domain.allocation (reference oracle)."""
    left = min(concession, total)
    out = {}
    for component in ORDER:
        amount = min(left, max(int(owed[component]), 0))
        if amount > 0:
            out[component] = amount
            left -= amount
    return out


component_st = st.integers(-10**6, 10**7)  # negative: a credit on that component


@given(concession=st.integers(0, 10**7), fee=component_st, interest=component_st,
       principal=component_st, total_offset=st.integers(-10**6, 10**6), use_sum=st.booleans())
def test_waivers_match_the_old_loop_and_never_over_post(concession, fee, interest, principal,
                                                       total_offset, use_sum):
    owed = {"fee": fee, "interest": interest, "principal": principal}
    total = fee + interest + principal if use_sum else fee + interest + principal + total_offset
    split = waiver_split(concession, total, owed)
    assert {c: a for c, a in split.items() if a > 0} == _old_waivers(concession, total, owed)
    assert list(split) == list(ORDER)
    assert all(0 <= split[c] <= max(0, owed[c]) for c in ORDER)
    assert sum(split.values()) <= max(0, min(concession, total))
    if split["interest"] or split["principal"]:
        assert split["fee"] == max(0, fee)  # fees first


def test_nothing_is_waived_on_an_account_in_credit():
    assert waiver_split(5_000, -100, {"fee": 300, "interest": 0, "principal": -400}) == \
        {"fee": 0, "interest": 0, "principal": 0}
