"""Link tokens: only hashes are stored; derived tokens are 256 bits, URL-safe, per purpose."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from defensa.core.tokens import (
    MAX_LENGTH,
    SHORT_CODE_ALPHABET,
    derived_token,
    hash_token,
    is_plausible,
    is_short_code,
    normal_code,
    short_code,
)


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


def test_short_codes_use_every_letter_of_the_alphabet_evenly() -> None:
    # 32 distinct letters, none a person misreads (I, O, 0, 1): a byte's low 5 bits pick one
    # without bias only because there are exactly 32.
    assert len(set(SHORT_CODE_ALPHABET)) == len(SHORT_CODE_ALPHABET) == 32
    assert not set("IO01") & set(SHORT_CODE_ALPHABET)
    seen = Counter("".join(short_code(10) for _n in range(3200)))
    assert set(seen) == set(SHORT_CODE_ALPHABET)
    # 32,000 letters, 1,000 expected each; binomial sd ~31, so 850-1150 fails by chance ~never.
    assert all(850 < n < 1150 for n in seen.values()), seen


def test_a_taken_code_is_drawn_again() -> None:
    first = short_code(6)
    drawn = short_code(6, taken=lambda code: code == first)
    assert drawn != first and is_short_code(drawn, 6)


def test_codes_are_read_as_people_type_them() -> None:
    assert normal_code(" abc-d 2 3 ") == "ABCD23"
    assert is_short_code("ABCD23", 6)
    assert not is_short_code("ABCD21", 6)  # 1 is not in the alphabet
    assert not is_short_code("ABCD2", 6)
