"""Reads shared while one page is assembled (issue 15: a page costs its round trips).

Two features sometimes read the same rows for one page: the care records behind both the
escalation pause and what the cardholder is told, the plans behind both the plan pause and the
page's plan facts. Inside `shared_reads()` such a read runs once and its result is reused by
every later caller asking with the same key; outside it, every call reads afresh.

The scope is for read-only work that writes nothing in between (a GET page's figures): it
lives in a context variable for the duration of the `with` block only, so nothing outlives
the page and nothing can go stale across requests.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Hashable, Iterator, TypeVar

T = TypeVar("T")
_SCOPE: ContextVar[dict | None] = ContextVar("portal_shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Share the reads made through `shared` until the block ends (nested blocks share the
    outer block's reads)."""
    if _SCOPE.get() is not None:
        yield
        return
    token = _SCOPE.set({})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def sharing() -> bool:
    """True inside `shared_reads()`."""
    return _SCOPE.get() is not None


def shared(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, run once per key inside `shared_reads()` (every call outside it)."""
    cache = _SCOPE.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]
