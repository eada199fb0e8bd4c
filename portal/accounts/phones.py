"""Phone numbers as people write them: parsed with the region of the account's policy profile.

A cardholder in China types `13800138001`, one in New York `(212) 555-0103`; both mean an
E.164 number only once the region is known. The region comes from the account's policy
profile (`cn` accounts are Chinese numbers, `us` American ones); a number written with `+`
or `00` and a country code needs no region.
"""
from __future__ import annotations

import re

import phonenumbers

# Policy profile -> the region whose national numbering its cardholders use.
PROFILE_REGIONS = {"cn": "CN", "us": "US", "uk": "GB"}
# What a phone number may look like once spaces, brackets, dots and dashes are dropped:
# anything else (letters, quotes, symbols) is not a phone number and is never parsed.
_COMPACT = re.compile(r"\+?\d{3,17}")
_SEPARATORS = re.compile(r"[\s().\-]")


def region_for_profile(profile: str | None) -> str | None:
    return PROFILE_REGIONS.get((profile or "").lower())


def profiles_by_region() -> dict[str, tuple[str, ...]]:
    """Each region with the profiles whose accounts are numbered in it."""
    regions: dict[str, list[str]] = {}
    for profile, region in PROFILE_REGIONS.items():
        regions.setdefault(region, []).append(profile)
    return {region: tuple(profiles) for region, profiles in regions.items()}


def compact(raw: str | None) -> str:
    """The typed number without separators, `00` read as `+`."""
    value = _SEPARATORS.sub("", (raw or "").strip())
    return "+" + value[2:] if value.startswith("00") else value


def is_national(raw: str | None) -> bool:
    """Digits only, no country code: needs a region to mean a number."""
    value = compact(raw)
    return bool(_COMPACT.fullmatch(value)) and not value.startswith("+")


def parse_in_region(raw: str | None, region: str) -> str | None:
    """The E.164 form of `raw` read as a number of `region`, or None when it is not a valid
    number there."""
    value = compact(raw)
    if not _COMPACT.fullmatch(value):
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str | None) -> str:
    """The digits of a number as its owner writes it at home (trunk prefix included)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)
