from enum import Enum, StrEnum

import pytest

from portal.domain.statemachine import IllegalTransition, StateMachine


class Light(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    BROKEN = "broken"


class Other(Enum):
    X = 1


LIGHTS = StateMachine(
    "light",
    {
        Light.GREEN: {Light.AMBER, Light.BROKEN},
        Light.AMBER: {Light.RED},
        Light.RED: {Light.GREEN},
    },
)


def test_listed_transitions_are_allowed():
    assert LIGHTS.can(Light.GREEN, Light.AMBER)
    assert LIGHTS.check(Light.AMBER, Light.RED) is Light.RED


def test_unlisted_transition_raises_named_exception_with_details():
    assert not LIGHTS.can(Light.GREEN, Light.RED)
    with pytest.raises(IllegalTransition) as exc:
        LIGHTS.check(Light.GREEN, Light.RED)
    assert (exc.value.machine, exc.value.source, exc.value.target) == ("light", Light.GREEN, Light.RED)
    assert "GREEN -> RED" in str(exc.value)


def test_self_transition_is_illegal_unless_listed():
    assert not LIGHTS.can(Light.GREEN, Light.GREEN)


def test_state_without_entry_is_terminal():
    assert LIGHTS.allowed_from(Light.BROKEN) == frozenset()
    assert not LIGHTS.can(Light.BROKEN, Light.GREEN)


def test_plain_strings_and_foreign_enums_are_refused():
    with pytest.raises(TypeError):
        LIGHTS.can("green", Light.AMBER)
    with pytest.raises(TypeError):
        LIGHTS.check(Light.GREEN, Other.X)


def test_table_mixing_enum_types_is_refused():
    with pytest.raises(TypeError):
        StateMachine("mixed", {Light.GREEN: {Other.X}})


def test_later_changes_to_the_callers_table_do_not_change_the_rules():
    table = {Light.GREEN: {Light.AMBER}}
    machine = StateMachine("copy", table)
    table[Light.GREEN].add(Light.RED)
    assert not machine.can(Light.GREEN, Light.RED)
