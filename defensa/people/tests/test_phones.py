"""Phones of a spreadsheet: the quick path for plain US numbers answers as the parser does."""

from __future__ import annotations

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from defensa.people.rows import normal_phone


def _parser(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_usual_spellings() -> None:
    for value in ("(213) 555-0100", "213.555.0100", "+1 213 555 0100", "1-213-555-0100"):
        assert normal_phone(value) == "+12135550100"
    assert normal_phone("+52 55 1234 5678") == "+525512345678"  # Mexico City
    assert normal_phone("+1 416 555 0100") == "+14165550100"  # Toronto: +1, not the US
    for value in ("12345", "555-0100", "(213) 555-01000", "call me", "", "+1 113 555 0100"):
        assert normal_phone(value) == ""


@given(
    st.one_of(
        st.from_regex(r"\A\+?1?[ (.-]?[0-9]{3}[ ).-]{0,2}[0-9]{3}[ .-]?[0-9]{4}\Z"),
        st.text(alphabet="0123456789+()-. x", max_size=20),
    )
)
def test_the_quick_path_agrees_with_the_parser(value: str) -> None:
    assert normal_phone(value) == _parser(value)
