"""Why escalation is paused for an account, asked of every feature that can pause it.

Plans (a kept plan) and disputes (a collection hold) register a provider at import time;
the nightly run and the timeline ask `escalation_pause` and never know who answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable


@dataclass(frozen=True)
class Pause:
    reason: str  # "plan" | "dispute" | ...: templates turn it into a sentence
    since: date | None = None
    amount: int | None = None  # the amount on hold, when only part of the debt is paused
    reference: str | None = None  # e.g. the plan or dispute id, for a link


PauseProvider = Callable[[object, date], "Pause | None"]
_providers: list[PauseProvider] = []


def register(provider: PauseProvider) -> PauseProvider:
    """Add a provider; usable as a decorator. Providers must be cheap and side-effect free."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def escalation_pause(account, as_of: date) -> Pause | None:
    """The first pause any provider reports for `account` on `as_of`, or None."""
    for provider in _providers:
        pause = provider(account, as_of)
        if pause is not None:
            return pause
    return None
