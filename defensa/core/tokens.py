"""Link tokens: the secrets in invitation, offer, check-in and feed links, written once.

Only a token's hash is stored (`hash_token`), so a copy of the database holds no working
link. A link token is either random (`secrets.token_urlsafe`, shown once) or derived from a
row (`derived_token`: an HMAC under SECRET_KEY, recomputed when a message is rendered, so
neither the database nor the outbox holds it).
"""

from __future__ import annotations

import base64
import hashlib

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
