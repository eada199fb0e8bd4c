"""Pure payment rules (no Flask, no SQLAlchemy): how a payment splits into ledger amounts and how
a refund unwinds it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from portal.domain.allocation import DEFAULT_ORDER, UNAPPLIED, allocate, allocate_to_instalments


def payment_split(amount: int, owed: Mapping[str, int]) -> dict[str, int]:
    """Split a payment of `amount` over what is owed (fees, interest, principal), never more than
    owed per component; what is left over is "unapplied" (a credit). Values add up to `amount`."""
    if amount <= 0:
        raise ValueError("a payment must be positive")
    return allocate(amount, {k: max(0, int(owed.get(k, 0))) for k in DEFAULT_ORDER})


# A refund unwinds what was paid last first: the credit, then principal, interest, fees.
REVERSAL_ORDER: tuple[str, ...] = (UNAPPLIED, *reversed(DEFAULT_ORDER))


def reversal_split(amount: int, reversible: Sequence[tuple[object, int]]) -> list[tuple[object, int]]:
    """Take `amount` from `reversible` [(key, still reversible)] in order; never more than each
    still has. Raises ValueError if `amount` exceeds the total."""
    if amount <= 0:
        raise ValueError("a reversal must be positive")
    if amount > sum(max(0, r) for _, r in reversible):
        raise ValueError("cannot reverse more than was paid")
    # The allocator takes money in the order given; positions stand in for the keys, which
    # need be neither unique nor ints.
    portions, _rest = allocate_to_instalments(
        amount, [(i, max(0, still)) for i, (_key, still) in enumerate(reversible)])
    return [(reversible[i][0], part) for i, part in portions]


def plan_unwind(amount: int, applied: Sequence[Sequence[int]],
                already: Sequence[Sequence[int]] = ()) -> list[list[int]]:
    """Which instalment amounts to reopen for a reversal of `amount`: newest instalment first,
    never more than the payment put on each (less what earlier reversals reopened). Raises
    ValueError for a negative amount or an instalment listed twice in `applied` (a payment
    applies to each instalment once; reopening it twice would reopen more than was paid)."""
    left = {int(i): int(a) for i, a in applied}
    for i, a in already:
        left[int(i)] = left.get(int(i), 0) - int(a)
    newest_first = [(int(i), max(0, left[int(i)])) for i, _ in reversed(list(applied))]
    portions, _rest = allocate_to_instalments(amount, newest_first)
    return [[instalment_id, part] for instalment_id, part in portions]
