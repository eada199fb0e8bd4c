"""The feed's phone check builds a plain E.164 number without phonenumbers.parse: differential
tests against the check it replaces (parse, is_valid_number, format_number) over every calling
code, hostile texts, generated numbers and hypothesis cases. Same decisions, same E.164 form,
same message; and the number it builds is the one parse gives."""
import random

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from portal.journal import feed_phone


def reference_phone(value: str) -> tuple[str | None, str | None]:
    """The check as it was before the shortcut (feed_rules before this change)."""
    if not value.startswith("+"):
        return None, f"phone '{value}' is not in international E.164 form (+ and country code)"
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return None, f"phone '{value}' is not a valid phone number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def parsed(value: str):
    try:
        return phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None


def agrees(value: str) -> bool:
    feed_phone.forget()
    built = feed_phone._plain_number(value)
    # A number built without parse is the one parse gives (field for field).
    assert built is None or built == parsed(value), value
    return feed_phone.checked_phone(value) == reference_phone(value)


def test_every_calling_code_with_many_national_numbers():
    rng = random.Random(15)
    taken = 0
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        for length in range(1, 19):
            for _ in range(6):
                national = "".join(rng.choice("0123456789") for _ in range(length))
                value = f"+{code}{national}"
                assert agrees(value), value
                taken += feed_phone._plain_number(value) is not None
    assert taken > 1000  # the shortcut is taken, not only the fallback


def test_example_numbers_of_every_region_and_type():
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            for value in (e164, e164 + "0", e164[:-1], e164.replace("+", "+0"), " " + e164,
                          e164 + " ", e164[:4] + " " + e164[4:], e164[:3] + "0" + e164[3:]):
                assert agrees(value), value


def test_hostile_texts():
    values = ["+", "+1", "+12", "+123", "+0", "+00", "+0086138", "++8613812345678",
              "+86 138 1234 5678", "+86-138-1234-5678", "+8613812345678x12", "+8613812345678#",
              "+86１３８12345678", "+861381234567８", "+8613812345678;ext=1", "tel:+8613812345678",
              "+86138123456789012345678", "+1" + "2" * 30, "+44020 7946 0958", "+4402079460958",
              "+390612345678", "+39312345678", "+79123456789", "+7 8 912 345 67 89",
              "+5491123456789", "+54 9 11 2345 6789", "+52112345678901", "+8613812345678 ",
              "+ 8613812345678", "+86(138)12345678", "+225 07 12 34 56 78", "+2250712345678",
              "+6112345678", "+61 0 412 345 678", "+800 1234 5678", "+88213 1234", "+979 123456789",
              "13812345678", "8613812345678", "", "+abc", "+86\n13812345678"]
    for value in values:
        assert agrees(value), value


def test_feed_like_numbers():
    rng = random.Random(7)
    for _ in range(3000):
        code = rng.choice(["86", "1", "44", "852", "886", "65", "61", "91", "7", "39", "49", "81"])
        national = str(rng.randint(10 ** 6, 10 ** 12))
        assert agrees(f"+{code}{national}")
    for n in range(0, 100_000_000, 997_331):  # what bench/import_feed.py writes
        assert agrees(f"+86138{n:08d}")


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"\+[0-9]{0,22}", fullmatch=True) | st.text(max_size=24))
def test_any_text_decides_as_parse(value):
    assert agrees(value)
