"""Proportions with confidence intervals, for the champion/challenger report. Pure.

- `wilson_interval(k, n)`: the Wilson score interval of a proportion k/n (Wilson 1927), which
  stays inside [0, 1] and behaves at k = 0 or k = n where the textbook (Wald) interval does not.
- `difference_interval(k1, n1, k2, n2)`: the difference p2 - p1 of two independent
  proportions with the normal-approximation (Wald) interval
  d ± z·sqrt(p1(1-p1)/n1 + p2(1-p2)/n2), clamped to [-1, 1].

z defaults to 1.959963984540054 (two-sided 95 %). Results are floats: they are read, never
added to money.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float | None  # None: nothing to estimate (no cases)
    low: float | None
    high: float | None


def proportion(k: int, n: int) -> float | None:
    _check(k, n)
    return k / n if n else None


def wilson_interval(k: int, n: int, z: float = Z95) -> Estimate:
    """The proportion k/n and its Wilson score interval; all None when n == 0."""
    _check(k, n)
    if n == 0:
        return Estimate(None, None, None)
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # The interval always holds p; the clamps only undo rounding (k = 0 gives low 0 exactly).
    return Estimate(p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def difference_interval(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> Estimate:
    """p2 - p1 (the challenger less the champion) and its normal-approximation interval;
    all None when either arm has no cases."""
    _check(k1, n1)
    _check(k2, n2)
    if n1 == 0 or n2 == 0:
        return Estimate(None, None, None)
    p1, p2 = k1 / n1, k2 / n2
    d = p2 - p1
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Estimate(d, max(-1.0, d - half), min(1.0, d + half))


def _check(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"not a proportion: {k}/{n}")
