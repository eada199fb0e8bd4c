"""The one place that decides what text and numbers the portal accepts."""
import pytest
from hypothesis import given, strategies as st

from portal.core.inputs import MAX_ID, has_control_characters, parse_id, parse_whole


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "x\x1by", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_found(text):
    assert has_control_characters(text)


@pytest.mark.parametrize("text", ["plain", "two\nlines\r\n", "tab\there", "中文 ١٢", "€ 10"])
def test_ordinary_text_and_line_breaks_are_fine(text):
    assert not has_control_characters(text)


@pytest.mark.parametrize("text", ["٣", "+5", "1_000", "5.0", "1e3", "", " ", "--1", "١٢"])
def test_whole_numbers_are_ascii_digits_only(text):
    with pytest.raises(ValueError):
        parse_whole(text)


def test_whole_numbers_keep_to_their_bounds():
    assert parse_whole(" 36 ", 1, 36) == 36
    assert parse_whole("-3", -5, 5) == -3
    for text in ("0", "37", str(10**26)):
        with pytest.raises(ValueError):
            parse_whole(text, 1, 36)


@pytest.mark.parametrize("text,expected", [("1", 1), (str(MAX_ID), MAX_ID), ("0", None),
                                           (str(MAX_ID + 1), None), ("٣", None), ("+4", None),
                                           ("", None), (None, None), ("10" * 20, None)])
def test_ids_are_ascii_digits_within_a_database_id(text, expected):
    assert parse_id(text) == expected


@given(st.text(max_size=30))
def test_parse_id_never_raises_and_answers_an_id_or_none(text):
    value = parse_id(text)
    assert value is None or 1 <= value <= MAX_ID


def test_every_form_of_the_portal_follows_the_input_rules(app):
    from flask_wtf import FlaskForm

    from portal.core.inputs import PortalForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    strays = [f"{c.__module__}.{c.__name__}" for c in subclasses(FlaskForm)
              if c.__module__.startswith("portal.") and not issubclass(c, PortalForm)]
    assert strays == []


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=20))
def test_control_characters_are_exactly_unicode_category_cc_but_tab_and_line_breaks(text):
    import unicodedata

    expected = any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in text)
    assert has_control_characters(text) == expected
