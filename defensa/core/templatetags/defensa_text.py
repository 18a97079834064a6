"""Text that people typed, shown safely: `{{ report.description|bidi_safe }}`.

Bidirectional-control characters change the order in which a browser draws the text around
them: an unclosed RIGHT-TO-LEFT OVERRIDE (U+202E) in a report reverses everything after it, so
a dispatcher could read "Soto and 1st" where the reporter wrote something else, or a name
reversed into another. Report text, notes and places are shown through this one filter, which
removes the embedding, override and isolate controls and the directional marks. Right-to-left
letters themselves are kept (Arabic or Hebrew still read correctly): only the invisible
controls go.
"""

from __future__ import annotations

from django import template

register = template.Library()

# LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM, ALM.
BIDI_CONTROLS = frozenset(
    [
        *map(chr, range(0x202A, 0x202F)),
        *map(chr, range(0x2066, 0x206A)),
        "\u200e",
        "\u200f",
        "\u061c",
    ]
)
_TABLE = {ord(ch): None for ch in BIDI_CONTROLS}


def neutralise_bidi(value: object) -> str:
    return str(value).translate(_TABLE)


@register.filter(is_safe=True)
def bidi_safe(value: object) -> str:
    """The text without bidirectional controls (escaping is left to the template as usual)."""
    if value is None:
        return ""
    return neutralise_bidi(value)
