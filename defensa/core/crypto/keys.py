"""Master keys: read from settings.MASTER_KEYS (env DEFENSA_MASTER_KEYS or its _FILE).

Format: comma-separated `ID:KEY` entries, KEY being 32 random bytes in URL-safe base64.
The first entry is the current key (it wraps new data keys); the others are older keys kept
only until `manage.py rotate_master_key` has re-wrapped every data key under the current one.

With no master key configured, settings.py allows a development key (generated once into
DEFENSA_DATA_DIR/dev_master_key, id `dev`) only outside production; production refuses to
start (see settings.py).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
DEV_KEY_ID = "dev"
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class MasterKeys:
    current_id: str
    keys: dict[str, bytes]
    development: bool = False


def generate_entry(key_id: str) -> str:
    """A new `ID:KEY` entry for DEFENSA_MASTER_KEYS."""
    if not _ID_RE.match(key_id):
        raise ValueError("a key id is 1-32 letters, digits, '.', '_' or '-'")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def parse(raw: str) -> MasterKeys:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep or not _ID_RE.match(key_id):
            raise ImproperlyConfigured(
                "DEFENSA_MASTER_KEYS entries are ID:KEY (id of letters, digits, . _ -)"
            )
        try:
            key = base64.urlsafe_b64decode(encoded.strip().encode() + b"==")
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(
                f"DEFENSA_MASTER_KEYS: key {key_id!r} is not base64"
            ) from exc
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"DEFENSA_MASTER_KEYS: key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"DEFENSA_MASTER_KEYS: key id {key_id!r} appears twice")
        keys[key_id] = key
        order.append(key_id)
    if not order:
        raise ImproperlyConfigured("DEFENSA_MASTER_KEYS holds no key")
    return MasterKeys(order[0], keys)


def _dev_key(path: Path) -> MasterKeys:
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(generate_entry(DEV_KEY_ID))
    parsed = parse(path.read_text().strip())
    return MasterKeys(parsed.current_id, parsed.keys, development=True)


@lru_cache(maxsize=8)
def _load(raw: str, dev_path: str) -> MasterKeys:
    if raw.strip():
        return parse(raw)
    return _dev_key(Path(dev_path))


def master_keys() -> MasterKeys:
    """The configured master keys (cached per configuration, so override_settings works)."""
    return _load(settings.MASTER_KEYS, str(settings.MASTER_KEY_DEV_FILE))


@lru_cache(maxsize=32)
def _hkdf(master: bytes, key_id: str, purpose: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = f"defensa/derived/v1\x00{purpose}\x00{key_id}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


class UnknownMasterKey(LookupError):
    """A derived key was asked for under a master key id that is not configured."""


def derived_key(purpose: str, key_id: str | None = None) -> tuple[str, bytes]:
    """A key for `purpose` (e.g. "audit.chain") derived from a master key (HKDF-SHA256).

    With no key_id: (current master key id, key under it). A key_id that is not configured
    raises UnknownMasterKey. Like the master key, the derived key is never stored.
    """
    keys = master_keys()
    key_id = key_id or keys.current_id
    master = keys.keys.get(key_id)
    if master is None:
        raise UnknownMasterKey(key_id)
    return key_id, _hkdf(master, key_id, purpose)
