"""Paying a plan ahead (issue 16): what falls due now oldest first, the rest to the last
instalments first; any sequence of payments and reversals keeps the books straight."""
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.allocation import allocate_ahead, allocate_to_instalments, due_now, schedule_after
from portal.payments.rules import plan_unwind

TODAY = date(2026, 12, 6)


def test_extra_beyond_what_is_due_pays_the_last_instalments_first():
    outstanding = [(1, 100), (2, 100), (3, 100), (4, 100)]
    applied, rest = allocate_ahead(250, outstanding, due=100)
    assert applied == [(1, 100), (4, 100), (3, 50)] and rest == 0
    # the term shortens; each instalment left keeps its agreed amount but the one part paid
    assert schedule_after(outstanding, applied) == [(2, 100), (3, 50)]


def test_a_payment_within_what_is_due_is_applied_oldest_first():
    outstanding = [(1, 100), (2, 100), (3, 100)]
    assert allocate_ahead(150, outstanding, due=200) == ([(1, 100), (2, 50)], 0)


def test_money_beyond_the_plan_stays_unapplied():
    assert allocate_ahead(500, [(1, 100), (2, 100)], due=100) == ([(1, 100), (2, 100)], 300)


def test_what_is_due_now_is_everything_missed_or_due_else_the_next_one():
    missed, today, later = TODAY - timedelta(days=30), TODAY, TODAY + timedelta(days=30)
    assert due_now([(missed, 100), (today, 100), (later, 100)], TODAY) == 200
    assert due_now([(later, 70), (later + timedelta(days=30), 100)], TODAY) == 70
    assert due_now([], TODAY) == 0


def test_a_reversal_undoes_an_extra_payment_in_the_opposite_order():
    applied, _rest = allocate_ahead(250, [(1, 100), (2, 100), (3, 100), (4, 100)], due=100)
    # plan_unwind reopens what was applied last first: instalment 3, then 4, then 1
    assert plan_unwind(120, [list(p) for p in applied]) == [[3, 50], [4, 70]]


_plans = st.lists(st.integers(min_value=1, max_value=50_000), min_size=1, max_size=12)
_payments = st.lists(st.tuples(st.integers(min_value=1, max_value=80_000), st.booleans(),
                               st.integers(min_value=0, max_value=12)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_plans, _payments)
def test_any_sequence_of_payments_never_allocates_more_than_paid(amounts, payments):
    left = {seq: amount for seq, amount in enumerate(amounts, start=1)}
    total_paid = total_applied = 0
    for amount, ahead, due_count in payments:
        outstanding = [(seq, still) for seq, still in left.items() if still > 0]
        due = sum(still for _seq, still in outstanding[:due_count])
        if ahead:
            applied, rest = allocate_ahead(amount, outstanding, due)
        else:
            applied, rest = allocate_to_instalments(amount, outstanding)
        seqs = [seq for seq, _ in applied]
        assert len(seqs) == len(set(seqs))  # each instalment once: a reversal can unwind it
        assert sum(part for _, part in applied) + rest == amount
        assert all(0 < part <= left[seq] for seq, part in applied)
        after = dict(schedule_after(outstanding, applied))
        for seq, part in applied:
            left[seq] -= part
        total_paid += amount
        total_applied += amount - rest
        # the schedule still sums to what is left
        assert sum(after.values()) == sum(left.values()) == sum(amounts) - total_applied
        assert total_applied <= total_paid
        # reversing the whole payment gives back exactly what it applied, newest first
        unwind = plan_unwind(amount - rest, [list(p) for p in applied])
        assert sorted(map(tuple, unwind)) == sorted(applied)
        assert [seq for seq, _ in unwind] == list(reversed(seqs))
