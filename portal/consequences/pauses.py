"""Why escalation is paused for an account, asked of every feature that can pause it.

Plans (a kept plan) and disputes (a collection hold) offer a provider, which `portal.wiring`
registers (never an import side effect, so a bare worker sees the same pauses as the web app);
the nightly run and the timeline ask `escalation_pause` and never know who answered.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Callable

# What a pause can freeze in the nightly run (contact is held by the contact rules instead).
ESCALATION, FEES, INTEREST = "escalation", "fees", "interest"


@dataclass(frozen=True)
class Pause:
    """Why escalation is paused, and what that freezes.

    A *full* pause (plans, disputes) stops every consequence, late fees included, and penalty
    interest where the profile says `freeze_while_paused`. A partial one (`full=False`, e.g. a
    vulnerability flag that only stops escalation) freezes only what `freezes` names.
    When several providers answer, the first one is shown and what they freeze adds up.
    A fee frozen by a plan or a dispute is charged after the pause if still owed; one frozen
    by a pause that sets `waives_fees_from` (care) is waived when its day is in that pause.
    """
    reason: str  # "plan" | "dispute" | "breathing_space" | ...: templates make it a sentence
    since: date | None = None
    amount: int | None = None  # the amount on hold, when only part of the debt is paused
    reference: str | None = None  # e.g. the plan or dispute id, for a link
    until: date | None = None  # the last day of the pause, when it has a set end
    full: bool = True
    freezes: frozenset = frozenset()  # any of ESCALATION, FEES, INTEREST, beyond a full pause
    # A late fee whose day falls on or after this day, while fees are frozen, is waived (never
    # charged afterwards) instead of deferred: a care record (breathing space) freezing fees.
    waives_fees_from: date | None = None

    def frozen(self, interest_when_full: bool) -> tuple[bool, bool, bool]:
        """(escalation, fees, interest) frozen; `interest_when_full`: the profile's rule."""
        return (self.full or ESCALATION in self.freezes, self.full or FEES in self.freezes,
                (self.full and interest_when_full) or INTEREST in self.freezes)


def combined(found: list[Pause]) -> Pause | None:
    """The first pause, freezing everything that any of `found` freezes."""
    if len(found) < 2:
        return found[0] if found else None
    waived = [p.waives_fees_from for p in found if p.waives_fees_from is not None]
    return replace(found[0], full=any(p.full for p in found),
                   freezes=frozenset().union(*(p.freezes for p in found)),
                   waives_fees_from=min(waived) if waived else None)


PauseProvider = Callable[[object, date], "Pause | None"]
Candidates = Callable[[list], "set[int]"]
Batch = Callable[[list, date], "dict[int, Pause]"]
_providers: list[PauseProvider] = []
_candidates: dict[PauseProvider, Candidates] = {}
_batches: dict[PauseProvider, Batch] = {}


def register(provider: PauseProvider = None, *, candidates: Candidates | None = None,
             batch: Batch | None = None):
    """Add a provider; usable as a decorator (`@register` or `@register(candidates=...)`).

    Providers must be cheap and side-effect free. `candidates(account_ids)` is optional and
    for batch jobs: one query returning the ids, among `account_ids`, that the provider might
    pause on any day (e.g. every account with a plan or a contesting dispute, whatever its
    state); `pause_checker` then asks the provider only about those accounts.
    `batch(accounts, as_of)` is optional and for pages listing several accounts: a fixed
    number of queries answering, per account id, what the provider would (absent = None).
    """
    def add(fn):
        if fn not in _providers:
            _providers.append(fn)
        if candidates is not None:
            _candidates[fn] = candidates
        if batch is not None:
            _batches[fn] = batch
        return fn
    return add if provider is None else add(provider)


def pause_checker(accounts) -> Callable[[object, date], "Pause | None"]:
    """`escalation_pause` for a batch of accounts, skipping providers that said "not these".

    One `candidates` query per provider that offers one; a provider with a `batch` function
    is then asked once per day for all its candidate accounts (the nightly run asks about
    one day for thousands of accounts), the others once per account and day. The returned
    function answers exactly as `escalation_pause` would.
    """
    accounts = list(accounts)
    ids = [a.id for a in accounts]
    narrowed = {p: fn(ids) for p, fn in _candidates.items() if p in _providers}
    answered: dict[tuple, dict[int, Pause]] = {}

    def batch_answer(provider, account, as_of: date) -> Pause | None:
        key = (provider, as_of)
        if key not in answered:
            pool = [a for a in accounts
                    if provider not in narrowed or a.id in narrowed[provider]]
            answered[key] = _batches[provider](pool, as_of) if pool else {}
        return answered[key].get(account.id)

    def check(account, as_of: date) -> Pause | None:
        found = []
        for provider in _providers:
            if provider in narrowed and account.id not in narrowed[provider]:
                continue
            if provider in _batches and account.id in ids_set:
                pause = batch_answer(provider, account, as_of)
            else:
                pause = provider(account, as_of)
            if pause is not None:
                found.append(pause)
        return combined(found)
    ids_set = set(ids)
    return check


def escalation_pause(account, as_of: date) -> Pause | None:
    """The first pause any provider reports for `account` on `as_of` (freezing what they all
    freeze, `combined`), or None."""
    return combined([p for p in (provider(account, as_of) for provider in _providers) if p])


def pauses_for(accounts, as_of: date) -> dict[int, "Pause | None"]:
    """`escalation_pause` for each of `accounts` on one day, keyed by account id.

    Providers with a `batch` answer for all accounts at once; the others are asked per
    account (narrowed by `candidates` when they offer it). First provider wins, as in
    `escalation_pause`.
    """
    accounts = list(accounts)
    answers: list[Callable[[object], "Pause | None"]] = []
    ids = [a.id for a in accounts]
    for provider in _providers:
        if provider in _batches:
            found = _batches[provider](accounts, as_of) if accounts else {}
            answers.append(lambda a, found=found: found.get(a.id))
        elif provider in _candidates:
            narrowed = _candidates[provider](ids) if ids else set()
            answers.append(lambda a, p=provider, n=narrowed:
                           p(a, as_of) if a.id in n else None)
        else:
            answers.append(lambda a, p=provider: p(a, as_of))
    return {account.id: combined([p for p in (ask(account) for ask in answers) if p])
            for account in accounts}
