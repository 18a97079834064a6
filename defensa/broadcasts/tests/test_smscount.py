"""SMS segment counting: GSM-7 vs UCS-2, single vs concatenated, two-place characters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from defensa.broadcasts.smscount import count


def test_plain_text_is_gsm7_160_in_one_then_153_per_segment():
    assert count("a" * 160) == count("a" * 160)
    assert (count("a" * 160).encoding, count("a" * 160).segments) == ("GSM-7", 1)
    assert count("a" * 161).segments == 2
    assert count("a" * 306).segments == 2
    assert count("a" * 307).segments == 3


def test_an_accent_outside_gsm7_makes_it_ucs2_70_then_67():
    text = "Reunión" + "a" * 63  # ó is not in GSM-7: 70 characters
    assert count(text).encoding == "UCS-2"
    assert count(text).segments == 1
    assert count(text + "a").segments == 2  # 71
    assert count("ó" * 134).segments == 2
    assert count("ó" * 135).segments == 3
    assert count(text).culprits == "ó"


def test_spanish_letters_in_gsm7_keep_it_cheap():
    # ñ, é, ü, ¿, ¡ are in the GSM alphabet; á, í, ó, ú are not.
    assert count("¿Niños? ¡Sí!").encoding == "UCS-2"  # í
    assert count("¿Niños? ¡Ya!").encoding == "GSM-7"
    assert count("café ñandú").encoding == "UCS-2"  # ú


def test_extension_characters_take_two_places_and_are_not_split():
    assert count("€" * 80).units == 160
    assert count("€" * 80).segments == 1
    assert count("€" * 81).segments == 2
    # 306 septets would fit two segments of 153, but the euro's escape pair cannot straddle
    # the boundary: it starts the second segment, which then overflows into a third.
    assert count("a" * 152 + "€" + "a" * 152).segments == 3


def test_emoji_take_two_utf16_units():
    assert count("✊" * 70).segments == 1  # BMP: one unit each
    assert count("😀" * 35).segments == 1  # astral: two units each, 70 in all
    assert count("😀" * 36).segments == 2


def test_empty_text_costs_nothing():
    assert count("").segments == 0


@given(st.text(max_size=500))
def test_segments_are_never_fewer_than_the_units_need(text):
    c = count(text)
    limit = 153 if c.encoding == "GSM-7" else 67
    single = 160 if c.encoding == "GSM-7" else 70
    if c.units <= single:
        assert c.segments == (1 if c.units else 0)
    else:
        assert c.segments >= -(-c.units // limit)
