"""Link tokens: only hashes are stored; derived tokens are 256 bits, URL-safe, per purpose."""

from __future__ import annotations

import hashlib
import re

from defensa.core.tokens import MAX_LENGTH, derived_token, hash_token, is_plausible


def test_the_stored_hash_is_the_sha256_of_the_token_and_takes_any_text() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    # A link's path may carry a lone surrogate; hashing it must not fail (it matches nothing).
    assert len(hash_token("\ud800x")) == 64


def test_empty_and_overlong_tokens_are_not_looked_up() -> None:
    assert not is_plausible("")
    assert is_plausible("x" * MAX_LENGTH)
    assert not is_plausible("x" * (MAX_LENGTH + 1))


def test_a_derived_token_is_256_url_safe_bits_that_differ_by_purpose_and_row(settings) -> None:  # type: ignore[no-untyped-def]
    token = derived_token("defensa.test.one", "1:nonce")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert derived_token("defensa.test.one", "1:nonce") == token
    assert derived_token("defensa.test.two", "1:nonce") != token
    assert derived_token("defensa.test.one", "2:nonce") != token
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert derived_token("defensa.test.one", "1:nonce") != token
