"""Delinquency stage from days past due, using thresholds that come from policy data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CURRENT = "current"


@dataclass(frozen=True)
class StageThreshold:
    """Accounts with at least ``min_dpd`` days past due are in stage ``code``."""

    code: str
    min_dpd: int


def validate_thresholds(thresholds: Sequence[StageThreshold]) -> list[str]:
    """Error codes for a threshold table; an empty list means it is usable.

    Codes: ``not_increasing`` (min_dpd must strictly increase), ``negative``
    (min_dpd below 0), ``duplicate_code``, ``empty_code``.
    """
    errors: list[str] = []

    def add(code: str) -> None:
        if code not in errors:
            errors.append(code)

    seen: set[str] = set()
    previous: int | None = None
    for threshold in thresholds:
        if threshold.min_dpd < 0:
            add("negative")
        if previous is not None and threshold.min_dpd <= previous:
            add("not_increasing")
        if not threshold.code:
            add("empty_code")
        elif threshold.code in seen:
            add("duplicate_code")
        seen.add(threshold.code)
        previous = threshold.min_dpd
    return errors


def stage_for(dpd: int, thresholds: Sequence[StageThreshold]) -> str:
    """The code of the highest threshold whose ``min_dpd <= dpd``.

    Below the first threshold (or with no thresholds) the stage is ``"current"``.
    Raises ValueError for a negative dpd or an invalid threshold table, because a
    misconfigured policy must not silently place accounts in the wrong stage.
    """
    if dpd < 0:
        raise ValueError(f"dpd must be >= 0, got {dpd}")
    errors = validate_thresholds(thresholds)
    if errors:
        raise ValueError(f"invalid stage thresholds: {', '.join(errors)}")
    stage = CURRENT
    for threshold in thresholds:
        if threshold.min_dpd > dpd:
            break
        stage = threshold.code
    return stage
