"""The feed's phone check: a valid number in E.164, with phonenumbers' own decisions. Pure code.

Parsing is most of phonenumbers' work on a feed (tens of thousands of distinct numbers). A
plain E.164 text (+, then ASCII digits only) parses to its country calling code and the digits
after it, unless the number's region would strip a national prefix from them or they start
with 0 (Italian leading zeros): `_plain_number` builds that number directly and leaves every
other text to `phonenumbers.parse`. Validity and the E.164 form are then phonenumbers' own
calls on either. tests/unit/test_feed_phone_fast.py holds the two ways to the same results.
"""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumber

# + and 3 to 20 ASCII digits: a country code of 1-3 digits and a national number within
# phonenumbers' limits (2-17 digits) are checked below; anything else is parsed.
_PLAIN_RE = re.compile(r"\+([1-9][0-9]{2,19})", re.ASCII)
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN and _MAX_LENGTH_FOR_NSN


def forget() -> None:
    """Drop the remembered results (a benchmark's passes each start like a new process)."""
    checked_phone.cache_clear()


# A feed names a cardholder once per account, and a replay names everyone again: each distinct
# text is checked once per process (the checks are pure and the slowest part of a row).
@lru_cache(maxsize=1 << 18)
def checked_phone(value: str) -> tuple[str | None, str | None]:
    """(the number in E.164, None) or (None, why it is refused)."""
    if not value.startswith("+"):
        return None, f"phone '{value}' is not in international E.164 form (+ and country code)"
    number = _plain_number(value)
    if number is None:
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return None, f"phone '{value}' is not a valid phone number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def _plain_number(value: str) -> PhoneNumber | None:
    """What phonenumbers.parse(value, None) gives for a plain E.164 text, or None: parse it."""
    match = _PLAIN_RE.fullmatch(value)
    if match is None:
        return None
    digits = match[1]
    for size in (1, 2, 3):  # the shortest known calling code, as parse takes it
        if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if (not _MIN_NSN <= len(national) <= _MAX_NSN or national[0] == "0"
            or _strips_prefix(int(digits[:size]), national)):
        return None
    return PhoneNumber(country_code=int(digits[:size]), national_number=int(national))


def _strips_prefix(country_code: int, national: str) -> bool:
    """Whether parse might take a national prefix off `national` (the region's prefix
    pattern matches its start), or the calling code has no metadata."""
    pattern = _national_prefix(country_code)
    return pattern is False or (pattern is not None and pattern.match(national) is not None)


@lru_cache(maxsize=None)
def _national_prefix(country_code: int) -> re.Pattern | None | bool:
    """The compiled national_prefix_for_parsing of the calling code's main region; None when
    it has none; False when there is no metadata."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return False
    prefix = metadata.national_prefix_for_parsing
    return re.compile(prefix) if prefix else None
