"""Short reference codes that people read aloud over a phone or copy from a small screen."""

from __future__ import annotations

from defensa.core.tokens import short_code

LENGTH = 6  # 32**6 ~ 1.07e9 codes: collisions are rare, and callers retry on one.


def new_code(length: int = LENGTH) -> str:
    return short_code(length)


def normalise_code(value: str) -> str:
    """Read a code the way a person might type it: any case, O for 0 and I/L for 1 slips."""
    cleaned = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return cleaned.replace("0", "O").replace("1", "I")
