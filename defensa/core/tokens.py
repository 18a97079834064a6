"""Link tokens: the secrets in invitation, offer, check-in and feed links, written once.

Only a token's hash is stored (`hash_token`), so a copy of the database holds no working
link. A link token is either random (`secrets.token_urlsafe`, shown once) or derived from a
row (`derived_token`: an HMAC under SECRET_KEY, recomputed when a message is rendered, so
neither the database nor the outbox holds it).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable

from django.utils.crypto import salted_hmac

# Longer than any token we hand out; a longer one is refused before it is hashed.
MAX_LENGTH = 200


def hash_token(token: str) -> str:
    """The SHA-256 stored for a token (a link's text may hold any character)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def is_plausible(token: str) -> bool:
    """False for an empty or overlong token: not worth a database lookup."""
    return bool(token) and len(token) <= MAX_LENGTH


def derived_token(salt: str, value: str) -> str:
    """HMAC-SHA256 of `value` under SECRET_KEY and `salt`: 256 bits, URL-safe, no padding."""
    mac = salted_hmac(salt, value, algorithm="sha256")
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


# Short codes a person reads aloud, copies from a small screen or types on a phone (an event's,
# a pledge campaign's or a vote's code, a voter's one-time code, an incident's reference): no
# I, O, 0 or 1, which are misread.
SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def short_code(length: int, taken: Callable[[str], bool] | None = None) -> str:
    """A random code of `length` characters; drawn again while `taken(code)` says it is in use."""
    while True:
        # 32 letters: the low 5 bits of a random byte pick one without bias (256 = 8 x 32),
        # one system call per code rather than one per character (a vote makes 20,000 codes).
        code = "".join(SHORT_CODE_ALPHABET[byte & 31] for byte in secrets.token_bytes(length))
        if taken is None or not taken(code):
            return code


def normal_code(text: str) -> str:
    """A code as a person may type it (any case, spaces or hyphens between groups)."""
    return "".join(text.split()).replace("-", "").upper()


def is_short_code(code: str, length: int) -> bool:
    """Whether `code` (already normal) could be a code of `length`: not worth a lookup if not."""
    return len(code) == length and all(ch in SHORT_CODE_ALPHABET for ch in code)


def derived_short_code(salt: str, value: str, length: int) -> str:
    """A short code of `length` (at most 32) characters derived from `value` under SECRET_KEY
    and `salt`: like `short_code`, but worked out again when a message is written, so no
    working code is stored (an SMS-only member's invitation code)."""
    mac = salted_hmac(salt, value, algorithm="sha256").digest()
    return "".join(SHORT_CODE_ALPHABET[byte & 31] for byte in mac[:length])
