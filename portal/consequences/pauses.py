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
Candidates = Callable[[list], "set[int]"]
_providers: list[PauseProvider] = []
_candidates: dict[PauseProvider, Candidates] = {}


def register(provider: PauseProvider = None, *, candidates: Candidates | None = None):
    """Add a provider; usable as a decorator (`@register` or `@register(candidates=...)`).

    Providers must be cheap and side-effect free. `candidates(account_ids)` is optional and
    for batch jobs: one query returning the ids, among `account_ids`, that the provider might
    pause on any day (e.g. every account with a plan or a contesting dispute, whatever its
    state); `pause_checker` then asks the provider only about those accounts.
    """
    def add(fn):
        if fn not in _providers:
            _providers.append(fn)
        if candidates is not None:
            _candidates[fn] = candidates
        return fn
    return add if provider is None else add(provider)


def pause_checker(accounts) -> Callable[[object, date], "Pause | None"]:
    """`escalation_pause` for a batch of accounts, skipping providers that said "not these".

    One `candidates` query per provider that offers one; the returned function answers
    exactly as `escalation_pause` would.
    """
    ids = [a.id for a in accounts]
    narrowed = {p: fn(ids) for p, fn in _candidates.items() if p in _providers}

    def check(account, as_of: date) -> Pause | None:
        for provider in _providers:
            if provider in narrowed and account.id not in narrowed[provider]:
                continue
            pause = provider(account, as_of)
            if pause is not None:
                return pause
        return None
    return check


def escalation_pause(account, as_of: date) -> Pause | None:
    """The first pause any provider reports for `account` on `as_of`, or None."""
    for provider in _providers:
        pause = provider(account, as_of)
        if pause is not None:
            return pause
    return None
