"""How many SMS segments a text costs: GSM-7 or UCS-2, single or concatenated.

A text that fits the GSM 03.38 alphabet goes as GSM-7: 160 characters in one message, 153 per
segment when it has to be split (the rest of each segment is the header that joins them).
Characters of the extension table (^ { } \\ [ ] ~ | €) take two places. One character outside
the alphabet (most accented letters: á í ó ú, but not é, ñ or ü; emoji; curly quotes) makes
the whole text UCS-2: 70 per message, 67 per segment, and characters beyond the Basic
Multilingual Plane (emoji) take two places. A segment never splits a two-place character.
Carriers bill per segment.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
CONCATENATED = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    # Characters that forced UCS-2 (empty for GSM-7), so the author can replace them.
    culprits: str = ""


def _units(ch: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def count(text: str) -> SmsCount:
    """The encoding, length and segment count of `text` sent as one SMS."""
    bad = [ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION]
    encoding = "UCS-2" if bad else "GSM-7"
    units = [_units(ch, encoding) for ch in text]
    total = sum(units)
    if total == 0:
        return SmsCount(encoding, 0, 0)
    if total <= SINGLE[encoding]:
        return SmsCount(encoding, total, 1, "".join(dict.fromkeys(bad)))
    limit = CONCATENATED[encoding]
    segments, used = 1, 0
    for size in units:
        if used + size > limit:
            segments += 1
            used = 0
        used += size
    return SmsCount(encoding, total, segments, "".join(dict.fromkeys(bad)))
