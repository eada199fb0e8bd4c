"""Explicit state machines: an Enum of states plus a table of allowed transitions."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import Enum
from typing import Generic, TypeVar

State = TypeVar("State", bound=Enum)


class IllegalTransition(Exception):
    """A transition not in the machine's table was attempted."""

    def __init__(self, machine: str, source: Enum, target: Enum) -> None:
        super().__init__(f"{machine}: {source.name} -> {target.name} is not allowed")
        self.machine = machine
        self.source = source
        self.target = target


class StateMachine(Generic[State]):
    """Allowed transitions for one Enum of states.

    Only listed pairs are allowed; a self-transition must be listed to be allowed,
    and a state with no entry is terminal. States of another type raise TypeError
    (a plain string is a bug, even for a StrEnum).
    """

    def __init__(self, name: str, transitions: Mapping[State, Collection[State]]) -> None:
        self.name = name
        # Frozen copy: the caller's dict cannot change the rules afterwards.
        self._table: dict[State, frozenset[State]] = {
            source: frozenset(targets) for source, targets in transitions.items()
        }
        states = set(self._table) | {t for targets in self._table.values() for t in targets}
        kinds = {type(state) for state in states}
        if len(kinds) != 1 or not issubclass(next(iter(kinds)), Enum):
            raise TypeError(f"{name}: all states must be members of one Enum")
        self.state_type: type[State] = next(iter(kinds))

    def _member(self, state: State) -> State:
        if not isinstance(state, self.state_type):
            raise TypeError(f"{self.name}: {state!r} is not a {self.state_type.__name__}")
        return state

    def allowed_from(self, source: State) -> frozenset[State]:
        """States reachable from ``source`` in one step (empty for terminal states)."""
        return self._table.get(self._member(source), frozenset())

    def can(self, source: State, target: State) -> bool:
        """True when ``source -> target`` is in the table."""
        return self._member(target) in self.allowed_from(source)

    def check(self, source: State, target: State) -> State:
        """Return ``target`` if ``source -> target`` is allowed, else raise IllegalTransition."""
        if not self.can(source, target):
            raise IllegalTransition(self.name, source, target)
        return target
