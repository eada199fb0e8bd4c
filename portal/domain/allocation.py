"""Applying a payment to what is owed, in a documented order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FEE = "fee"
INTEREST = "interest"
PRINCIPAL = "principal"
UNAPPLIED = "unapplied"

# Fees first, then interest, then principal: the default allocation order (DESIGN 3).
DEFAULT_ORDER: tuple[str, ...] = (FEE, INTEREST, PRINCIPAL)


def allocate(
    amount: int,
    owed: Mapping[str, int],
    order: Sequence[str] = DEFAULT_ORDER,
) -> dict[str, int]:
    """Split ``amount`` over components in ``order``, never more than owed per component.

    Returns every component in ``order`` (zeros included) plus ``"unapplied"`` for any
    overpayment; the values add up to ``amount`` exactly. A component missing from
    ``owed`` counts as owing 0. Raises ValueError for negative amounts, duplicate or
    reserved names in ``order``, or an owed component not in ``order`` (it would
    otherwise be silently skipped).
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    if len(set(order)) != len(order) or UNAPPLIED in order:
        raise ValueError(f"invalid allocation order {tuple(order)!r}")
    unknown = set(owed) - set(order)
    if unknown:
        raise ValueError(f"owed components not in allocation order: {sorted(unknown)}")
    if any(value < 0 for value in owed.values()):
        raise ValueError("owed amounts must not be negative")
    remaining = amount
    result: dict[str, int] = {}
    for component in order:
        applied = min(remaining, owed.get(component, 0))
        result[component] = applied
        remaining -= applied
    result[UNAPPLIED] = remaining
    return result


def allocate_to_instalments(
    amount: int,
    outstanding: Sequence[tuple[int, int]],
) -> tuple[list[tuple[int, int]], int]:
    """Apply ``amount`` oldest instalment first; ``outstanding`` is ``[(seq, still_due)]``.

    Returns ``([(seq, applied), ...], remainder)`` listing only instalments that got
    money; no instalment receives more than it still owes, and applied plus remainder
    equals ``amount``. The caller's order is kept (it must already be oldest first).
    Raises ValueError for negative amounts or duplicate seqs.
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    seqs = [seq for seq, _ in outstanding]
    if len(set(seqs)) != len(seqs):
        raise ValueError("duplicate instalment seq in outstanding")
    if any(due < 0 for _, due in outstanding):
        raise ValueError("outstanding amounts must not be negative")
    remaining = amount
    applied: list[tuple[int, int]] = []
    for seq, due in outstanding:
        if remaining == 0:
            break
        portion = min(remaining, due)
        if portion:
            applied.append((seq, portion))
            remaining -= portion
    return applied, remaining


def due_now(instalments: Sequence[tuple[object, int]], today) -> int:
    """What a plan asks for now: ``instalments`` are the unpaid ones, oldest first, as
    ``[(due_date, still_due)]``. Everything falling due by ``today`` (missed ones included);
    when nothing has fallen due yet, the next instalment. 0 for no instalments."""
    owed = sum(still for due_date, still in instalments if due_date <= today)
    if owed or not instalments:
        return owed
    return instalments[0][1]


def allocate_ahead(
    amount: int,
    outstanding: Sequence[tuple[int, int]],
    due: int,
) -> tuple[list[tuple[int, int]], int]:
    """Apply ``amount`` to a plan paid ahead: up to ``due`` (what falls due now) oldest
    instalment first, the rest to the LAST instalments first, so the term shortens and each
    remaining instalment keeps its agreed amount (one may be left part paid).

    ``outstanding`` is ``[(seq, still_due)]`` oldest first. Returns ``([(seq, applied)], rest)``
    in the order the money was applied (a reversal undoes it in the opposite order); each seq
    appears once, none gets more than it still owes, applied plus ``rest`` equals ``amount``.
    """
    if due < 0:
        raise ValueError("due must not be negative")
    first, _ = allocate_to_instalments(min(amount, due), outstanding)
    taken = dict(first)
    spent = sum(taken.values())
    newest_first = [(seq, still - taken.get(seq, 0)) for seq, still in reversed(outstanding)]
    extra, rest = allocate_to_instalments(amount - spent, newest_first)
    merged = dict(first)
    for seq, part in extra:  # a seq part paid by `due` and topped up here is listed once
        merged[seq] = merged.get(seq, 0) + part
    return list(merged.items()), rest


def schedule_after(
    outstanding: Sequence[tuple[int, int]],
    applied: Sequence[tuple[int, int]],
) -> list[tuple[int, int]]:
    """The instalments still owing after ``applied`` (both ``[(seq, amount)]``), oldest first:
    what the cardholder is shown before paying ahead."""
    got: dict[int, int] = {}
    for seq, part in applied:
        got[seq] = got.get(seq, 0) + part
    left = [(seq, still - got.get(seq, 0)) for seq, still in outstanding]
    return [(seq, still) for seq, still in left if still > 0]
