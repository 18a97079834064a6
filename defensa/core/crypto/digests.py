"""Keyed digests under the master key hierarchy (security property 14; issue "Hardening" 12).

Some lookups need to recognise a value without keeping it: an address that sent STOP, the
phone a text came from (to thread its follow-ups). They keep HMAC-SHA256 of the value under
a *digest key*: 32 random bytes made once per kind (`name`), stored as a data key wrapped by
the master key (`DigestKey`). So:

- a copy of the database alone (a backup, a dump, a subpoenaed file) cannot compute a digest,
  and therefore cannot test phone numbers against it (before, the key was derived from
  SECRET_KEY, which a default install keeps beside the database: all US numbers fall to a
  brute force in about six CPU-hours);
- a seized *running* server, master key included, still can: a digest is a pseudonym, not
  encryption. No slow KDF: opt-outs are checked for every address a broadcast reaches
  (100,000 digests in a few seconds is the budget), and a texter's number sits sealed in the
  reply's outbox row for 30 days under the same master key anyway. docs/security-operations.md
  says what a seized server reveals.
- Rotating the master key re-wraps the digest key like any data key: digests do not change.

    key = digest_key("notify.optout")      # raw bytes; one query (fetch once per batch)
    keyed_digest(key, "sms:+12135550100")  # 64 hex characters
"""

from __future__ import annotations

import functools
import hmac
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction

from defensa.core.crypto.keys import master_keys

# A digest carried over from an older scheme is re-keyed as keyed_digest(key, LEGACY + old).
LEGACY = "legacy:"

# Unwrapped once per process (a broadcast checks thousands of addresses), and again only if
# the row, the master key or the wrapping changes.
_raw: dict[tuple[int, bytes, bytes], bytes] = {}


def digest_key(name: str, *, models: tuple[Any, Any] | None = None) -> bytes:
    """The raw digest key called `name`, made (wrapped under the current master key) on first
    use. `models` = (DigestKey, DataKey) lets a data migration pass its historical models."""
    from defensa.core import crypto

    if models is None:
        from defensa.core.crypto.models import DataKey, DigestKey
    else:
        DigestKey, DataKey = models  # noqa: N806 (model classes)
    row = DigestKey.objects.select_related("data_key").filter(name=name).first()
    if row is None:
        try:
            with transaction.atomic():
                master_id, wrapped = crypto._wrap(AESGCM.generate_key(bit_length=256))
                data_key = DataKey.objects.create(
                    master_key_id=master_id, wrapped=wrapped, purpose=f"digest.{name}"
                )
                row = DigestKey.objects.create(name=name, data_key=data_key)
        except IntegrityError:  # another process made it first
            row = DigestKey.objects.select_related("data_key").get(name=name)
    key = row.data_key
    if key.wrapped is None:
        raise crypto.KeyShredded(f"the digest key {name!r} was shredded")
    master = master_keys().keys.get(key.master_key_id, b"")
    cached = (key.pk, master, bytes(key.wrapped))
    if cached not in _raw:
        _raw[cached] = crypto._unwrap(key)
    return _raw[cached]


def keyed_digest(key: bytes, message: str) -> str:
    mac = _keyed(key).copy()  # the key's padding hashed once, not for every message
    mac.update(message.encode("utf-8", "surrogatepass"))
    return mac.hexdigest()


@functools.lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod="sha256")  # OpenSSL's HMAC, whose copy is cheap
