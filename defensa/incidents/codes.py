"""Short reference codes that people read aloud over a phone or copy from a small screen."""

from __future__ import annotations

import secrets

# No 0/O or 1/I: a code read aloud or copied from a cracked screen must not be ambiguous.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 6  # 32**6 ~ 1.07e9 codes: collisions are rare, and callers retry on one.


def new_code(length: int = LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise_code(value: str) -> str:
    """Read a code the way a person might type it: any case, O for 0 and I/L for 1 slips."""
    cleaned = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return cleaned.replace("0", "O").replace("1", "I")
