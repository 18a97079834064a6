"""How a texted word is compared with a keyword, in every script the network reads.

A keyword is compared per word, case aside (Armenian and Latin letters have case), in Unicode's
composed form (a Korean syllable typed as its letters is the same syllable), full-width
letters as ordinary ones. Marks are the one rule to know: a keyword written without marks
matches however it is accented ("ACCION" matches ACCIÓN, "SI" matches SÍ, Arabic words match
with or without their short vowels and hamza), while a keyword written with its marks must be
typed with them: Vietnamese "DỪNG" (stop) is a keyword, but plain "DUNG" is not, because
"đúng" (right, yes) typed without marks is also "DUNG", and a yes must never unsubscribe.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TypeVar

V = TypeVar("V")

# Punctuation around a keyword says nothing (Latin, CJK and Arabic marks).
PUNCTUATION = ".,!¡?¿:;。，！？：；、،؟؛…\"'()[]"
_TATWEEL = "\u0640"  # Arabic letter stretching, typed for looks only


def nfc_upper(word: str) -> str:
    """The word in composed form and upper case (full-width letters as ordinary ones)."""
    folded = unicodedata.normalize("NFKC", word).replace(_TATWEEL, "")
    return unicodedata.normalize("NFC", folded.upper()).strip(PUNCTUATION + " ")


def bare(word: str) -> str:
    """The word without its marks (accents, tones, Arabic short vowels and hamza)."""
    decomposed = unicodedata.normalize("NFKD", nfc_upper(word))
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept).strip(PUNCTUATION + " ")


def lookup(table: Mapping[str, V], word: str) -> V | None:
    """The table's value for the word (keys in nfc_upper form), by the rule above."""
    upper = nfc_upper(word)
    found = table.get(upper)
    if found is None:
        stripped = bare(upper)
        found = table.get(stripped)
    return found


def table(words: Mapping[str, V]) -> dict[str, V]:
    """A keyword table with its keys in the form lookup() compares."""
    return {nfc_upper(word): value for word, value in words.items()}
