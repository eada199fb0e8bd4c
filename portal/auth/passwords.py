"""Password policy: long enough, not common, not built from the person's own details.

Plain Python (no Flask): the forms and the staff command both call `password_problem`.
"""
from __future__ import annotations

import enum
import re

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable" for an online attacker behind rate limits
# zxcvbn's cost grows with length; beyond this the prefix decides (and is plenty long).
_ZXCVBN_CHARS = 64
_COMMON_DICTIONARIES = {"passwords", "english_wikipedia", "us_tv_and_film", "surnames",
                        "female_names", "male_names"}


class PasswordProblem(enum.StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    TOO_COMMON = "too_common"  # a well-known password or easy to guess
    PERSONAL = "personal"  # contains the person's name, phone, email or birth date


def personal_inputs(*, name=None, phone=None, email=None, date_of_birth=None) -> list[str]:
    """The words a guesser would try first for this person, lower-case, 3+ characters."""
    words: list[str] = []
    if name:
        words += re.split(r"[\s,.'-]+", name.lower())
        words.append(re.sub(r"\s+", "", name.lower()))
    if phone:
        digits = re.sub(r"\D", "", phone)
        words += [digits, digits[-11:], digits[-8:]]
    if email:
        local, _, domain = email.lower().partition("@")
        words += [local, *re.split(r"[._+-]+", local)]
    if date_of_birth:
        d = date_of_birth
        words += [f"{d:%Y%m%d}", f"{d:%d%m%Y}", f"{d:%m%d%Y}", f"{d:%d%m%y}"]
    seen: list[str] = []
    for word in words:
        if len(word) >= 3 and word not in seen:
            seen.append(word)
    return seen


def password_problem(password: str, user_inputs: list[str] | tuple = ()) -> PasswordProblem | None:
    """Return the first reason to refuse `password`, or None when it is acceptable.

    Refused: shorter than 10 characters, longer than 128, scored below 3 by zxcvbn, matched as a
    whole by one of zxcvbn's common-word lists, or containing one of `user_inputs`.
    """
    if len(password) < MIN_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return PasswordProblem.TOO_LONG
    lowered = password.lower()
    # A plain substring test: zxcvbn reports only its cheapest explanation, which may name
    # a surname list instead of the person's own name.
    if any(len(word) >= 3 and word.lower() in lowered for word in user_inputs):
        return PasswordProblem.PERSONAL
    result = zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=list(user_inputs))
    if any(lowered in (m.get("token") or "").lower() and m.get("dictionary_name") in _COMMON_DICTIONARIES
           for m in result["sequence"]):
        return PasswordProblem.TOO_COMMON
    if result["score"] < MIN_SCORE:
        return PasswordProblem.TOO_COMMON
    return None
