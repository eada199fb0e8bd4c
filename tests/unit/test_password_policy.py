"""The password policy, without Flask or a database."""
from datetime import date

import pytest

from portal.auth.passwords import PasswordProblem, password_problem, personal_inputs


def test_nine_characters_are_too_short():
    assert password_problem("Zx9!qw8#e") == PasswordProblem.TOO_SHORT


def test_ten_unusual_characters_are_accepted():
    assert password_problem("Zx9!qw8#eR") is None


@pytest.mark.parametrize("password", ["password123456", "qwertyuiop", "1234567890",
                                      "iloveyou12345", "passwordpassword", "abcdefghijkl"])
def test_common_or_guessable_passwords_are_refused(password):
    assert password_problem(password) == PasswordProblem.TOO_COMMON


@pytest.mark.parametrize("password", ["Correct-Horse-42", "staff-Password-2026",
                                      "plum tractor ocean violet"])
def test_long_uncommon_passwords_are_accepted(password):
    assert password_problem(password) is None


def test_very_long_passwords_are_refused():
    assert password_problem("x7!" * 50) == PasswordProblem.TOO_LONG


def test_password_built_from_own_name_is_refused():
    inputs = personal_inputs(name="Zhang Weiming")
    assert password_problem("weiming#Sky!7", inputs) == PasswordProblem.PERSONAL


def test_password_containing_own_phone_number_is_refused():
    inputs = personal_inputs(phone="+8613812345678")
    assert password_problem("Qz!13812345678", inputs) == PasswordProblem.PERSONAL


def test_password_containing_email_name_or_birth_date_is_refused():
    inputs = personal_inputs(email="lily.chen@example.com", date_of_birth=date(1985, 4, 12))
    assert password_problem("Chen-Rocket-99!", inputs) == PasswordProblem.PERSONAL
    assert password_problem("Rocket!19850412", inputs) == PasswordProblem.PERSONAL


def test_someone_elses_name_is_not_personal():
    inputs = personal_inputs(name="Zhang Weiming", phone="+8613812345678")
    assert password_problem("Correct-Horse-42", inputs) is None


def test_personal_inputs_skip_short_fragments():
    assert "li" not in personal_inputs(name="Li Na", email="li@example.com")
