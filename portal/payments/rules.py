"""Pure payment rules (no Flask, no SQLAlchemy): how a payment splits into ledger amounts and how
a refund unwinds it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from portal.domain.allocation import DEFAULT_ORDER, UNAPPLIED, allocate


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
    taken, remaining = [], amount
    for key, still in reversible:
        part = min(remaining, max(0, still))
        if part:
            taken.append((key, part))
            remaining -= part
        if remaining == 0:
            break
    return taken


def plan_unwind(amount: int, applied: Sequence[Sequence[int]],
                already: Sequence[Sequence[int]] = ()) -> list[list[int]]:
    """Which instalment amounts to reopen for a reversal of `amount`: newest instalment first,
    never more than the payment put on each (less what earlier reversals reopened)."""
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
