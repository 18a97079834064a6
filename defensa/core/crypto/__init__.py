"""Envelope encryption and crypto-shredding (security property 14).

Every sensitive value is encrypted with AES-256-GCM under a *data key*: one per record (or
per group of records, such as a case). A data key is stored only *wrapped* (encrypted) by a
*master key* that never enters the database: it comes from DEFENSA_MASTER_KEYS or
DEFENSA_MASTER_KEYS_FILE (docs/security-operations.md). Destroying a data key
(*shredding*) makes everything it protected unreadable for good.

The API (import as ``from defensa.core import crypto``)
-------------------------------------------------------

Models: give the model a data-key ForeignKey and EncryptedField columns::

    from defensa.core.crypto.fields import EncryptedField

    class Report(models.Model):
        data_key = models.ForeignKey(
            "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
        )
        contact = EncryptedField(key_field="data_key")   # bytes of ciphertext, never text

    report.save()                                  # the row needs its pk first (AAD, below)
    crypto.seal(report, "contact", "+1 213 555 0199")   # makes report.data_key if missing
    report.save(update_fields=["contact", "data_key"])
    crypto.unseal(report, "contact")               # -> "+1 213 555 0199" (or None)
    crypto.seal_json(obj, name, {"a": 1}) / crypto.unseal_json(obj, name)

Several records can share one key (a case and its family contacts): assign the same
``DataKey`` to each row's key field before sealing, and shredding that key erases them all.

The ciphertext is bound to its place by AES-GCM's associated data
(``"<app_label>.<model>.<field>#<pk>"``, see ``aad_for``): a value copied into another row or
another column does not decrypt, it raises WrongKey.

Low level, for anything that is not a model column (voicemail files, attachments)::

    key = crypto.new_key("voicemail.recording")    # a saved DataKey (new_keys: many at once)
    blob = crypto.encrypt(key, data_bytes_or_str, aad="voicemail.recording#42")
    crypto.decrypt(key, blob, aad="voicemail.recording#42")   # -> bytes
    crypto.shred(key)                              # irreversible; the row stays as tombstone

Errors (all subclasses of ``crypto.CryptoError``):

- ``KeyShredded``: the data key was shredded; the value is gone for good.
- ``WrongKey``: the master key that wrapped the data key is not configured, or a master
  key, data key, ciphertext or AAD does not match. Never is ciphertext returned as if it
  were plaintext.
- ``fields.PlaintextRefused`` (a TypeError): saving anything but sealed bytes in an
  EncryptedField.

Master keys have ids (``ID:KEY`` entries, the first one current), so an old and a new key
coexist during rotation: ``manage.py rotate_master_key`` re-wraps every data key under the
current master key without touching any ciphertext (``rewrap_all`` here).

Shredding and backups: a backup holds data keys wrapped under the master key of its day.
Shredding removes the live copy at once; the copy in an older backup dies when the master
key it was wrapped under is retired (rotate, then remove the old key from the environment).
docs/security-operations.md tells operators how often to rotate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from defensa.core.crypto.fields import MAGIC
from defensa.core.crypto.keys import KEY_BYTES, master_keys

if TYPE_CHECKING:
    from django.db.models import Model

    from defensa.core.crypto.models import DataKey

__all__ = [
    "CryptoError",
    "KeyShredded",
    "Opened",
    "WrongKey",
    "aad_for",
    "aad_for_row",
    "decrypt",
    "encrypt",
    "encrypt_raw",
    "new_key",
    "new_raw_keys",
    "rewrap_all",
    "seal",
    "seal_json",
    "shred",
    "unseal",
    "unseal_json",
]

NONCE_BYTES = 12
_WRAP_AAD = b"defensa/datakey/v1\x00"
_DATA_AAD = b"defensa/data/v1\x00"


class CryptoError(Exception):
    """Base of every error of this module."""


class KeyShredded(CryptoError):
    """The data key was destroyed: what it protected cannot be read by anyone."""


class WrongKey(CryptoError):
    """A key, the ciphertext or its associated data does not match; nothing is returned."""


def _wrap(data_key: bytes) -> tuple[str, bytes]:
    keys = master_keys()
    nonce = os.urandom(NONCE_BYTES)
    aad = _WRAP_AAD + keys.current_id.encode()
    return keys.current_id, nonce + AESGCM(keys.keys[keys.current_id]).encrypt(nonce, data_key, aad)


def _unwrap(key: DataKey) -> bytes:
    if key.pk is None:
        raise ValueError("the data key is not saved")
    wrapped = key.wrapped
    if wrapped is None:
        raise KeyShredded(f"data key {key.pk} was shredded")
    master = master_keys().keys.get(key.master_key_id)
    if master is None:
        raise WrongKey(
            f"data key {key.pk} is wrapped by master key {key.master_key_id!r}, "
            "which is not configured"
        )
    raw = _unwrap_with(AESGCM(master), key.master_key_id, wrapped)
    if raw is None:
        raise WrongKey(f"master key {key.master_key_id!r} does not unwrap data key {key.pk}")
    return raw


def _unwrap_with(master: AESGCM, master_id: str, wrapped: bytes) -> bytes | None:
    """The raw data key `wrapped` under the master cipher, or None if it does not open."""
    wrapped = bytes(wrapped)
    try:
        raw = master.decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _WRAP_AAD + master_id.encode()
        )
    except InvalidTag:
        return None
    return raw if len(raw) == KEY_BYTES else None


def new_key(purpose: str) -> DataKey:
    """A fresh random data key, saved wrapped under the current master key."""
    from defensa.core.crypto.models import DataKey

    master_id, wrapped = _wrap(AESGCM.generate_key(bit_length=256))
    return DataKey.objects.create(master_key_id=master_id, wrapped=wrapped, purpose=purpose)


def new_keys(purpose: str, count: int) -> list[DataKey]:
    """`count` fresh data keys saved in one statement: a batch of rows, each under its own
    key (an import of many people), without a round trip per key."""
    from django.utils import timezone

    from defensa.core.crypto.models import DataKey

    now = timezone.now()
    keys = []
    for pk, master_id, wrapped, _raw in _insert_keys(purpose, count, now):
        key = DataKey(
            pk=pk, master_key_id=master_id, wrapped=wrapped, purpose=purpose, created_at=now
        )
        key._state.adding = False
        keys.append(key)
    return keys


def new_raw_keys(purpose: str, count: int) -> list[tuple[int, bytes]]:
    """`count` fresh data keys saved in one statement, as (id, raw key): what a batch of new
    rows needs to seal its values at once with `encrypt_raw`, without unwrapping each key it
    has just wrapped. The raw keys must stay in the caller's memory, never be stored."""
    from django.utils import timezone

    found = _insert_keys(purpose, count, timezone.now())
    return [(pk, raw) for pk, _master_id, _wrapped, raw in found]


def _insert_keys(purpose: str, count: int, now: Any) -> list[tuple[int, str, bytes, bytes]]:
    """Make, wrap (one master cipher for the batch) and insert `count` data keys."""
    from defensa.core.bulk import insert_returning_ids
    from defensa.core.crypto.models import DataKey

    if count <= 0:
        return []
    keys = master_keys()
    master_id = keys.current_id
    master = AESGCM(keys.keys[master_id])
    aad = _WRAP_AAD + master_id.encode()
    made = []
    for _n in range(count):
        raw = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        made.append((raw, nonce + master.encrypt(nonce, raw, aad)))
    ids = insert_returning_ids(
        DataKey,
        [{"master_key_id": master_id, "wrapped": wrapped} for _raw, wrapped in made],
        {"purpose": purpose, "created_at": now},
    )
    return [(pk, master_id, wrapped, raw) for pk, (raw, wrapped) in zip(ids, made, strict=True)]


def encrypt_raw(raw: bytes, plaintext: bytes | str, *, aad: str) -> bytes:
    """`encrypt` with a raw data key from `new_raw_keys` (same format, same aad rules)."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode("utf-8")
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(raw).encrypt(nonce, plaintext, _DATA_AAD + aad.encode("utf-8"))


def encrypt(key: DataKey, plaintext: bytes | str, *, aad: str) -> bytes:
    """Seal bytes (or UTF-8 text) under the data key, bound to `aad`."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode("utf-8")
    nonce = os.urandom(NONCE_BYTES)
    return (
        MAGIC
        + nonce
        + AESGCM(_unwrap(key)).encrypt(nonce, plaintext, _DATA_AAD + aad.encode("utf-8"))
    )


class Opened:
    """One data key unwrapped once, for a batch of values under it (a campaign's pledges, the
    outbox rows of one campaign): `encrypt`, `decrypt` and `unseal` as the module's functions
    do, in the same format, without unwrapping the key again for every value. Keep it for the
    batch only: the raw key must not outlive the work it was opened for."""

    def __init__(self, key: DataKey) -> None:
        self.key_id: int = key.pk
        self._cipher = AESGCM(_unwrap(key))

    @classmethod
    def many(cls, keys: Iterable[tuple[int, str, bytes | None]]) -> dict[int, Opened]:
        """Data keys read as values, (id, master key id, wrapped), opened at once: by id,
        those that open; a shredded key, or one whose master key is not configured or does
        not unwrap it, is left out, as `Opened(key)` would raise for it. For a batch of rows
        each under its own key (an area alert's subscribers), without a model instance per
        key or a master cipher per key."""
        masters = master_keys().keys
        ciphers: dict[str, AESGCM] = {}
        opened: dict[int, Opened] = {}
        for pk, master_id, wrapped in keys:
            if wrapped is None or pk in opened or master_id not in masters:
                continue
            master = ciphers.get(master_id)
            if master is None:
                master = ciphers[master_id] = AESGCM(masters[master_id])
            raw = _unwrap_with(master, master_id, wrapped)
            if raw is None:
                continue
            one = cls.__new__(cls)
            one.key_id, one._cipher = pk, AESGCM(raw)
            opened[pk] = one
        return opened

    def encrypt(self, plaintext: bytes | str, *, aad: str) -> bytes:
        if isinstance(plaintext, str):
            plaintext = plaintext.encode("utf-8")
        nonce = os.urandom(NONCE_BYTES)
        return MAGIC + nonce + self._cipher.encrypt(nonce, plaintext, _DATA_AAD + aad.encode())

    def decrypt(self, ciphertext: bytes, *, aad: str) -> bytes:
        ciphertext = bytes(ciphertext)
        if not ciphertext.startswith(MAGIC) or len(ciphertext) < 1 + NONCE_BYTES + 16:
            raise WrongKey("not a sealed value")
        body = ciphertext[1:]
        try:
            return self._cipher.decrypt(
                body[:NONCE_BYTES], body[NONCE_BYTES:], _DATA_AAD + aad.encode("utf-8")
            )
        except InvalidTag as exc:
            raise WrongKey(
                f"the value does not open with data key {self.key_id} and aad {aad!r}"
            ) from exc

    def unseal(self, obj: Model, field_name: str) -> str | None:
        """`unseal` for a row sealed under this key."""
        field = _column(obj, field_name)
        blob = getattr(obj, field.attname)
        if blob is None:
            return None
        return self.decrypt(blob, aad=aad_for(obj, field_name)).decode("utf-8")


def decrypt(key: DataKey, ciphertext: bytes, *, aad: str) -> bytes:
    """Open what `encrypt` sealed with the same key and aad; raise, never guess."""
    raw = _unwrap(key)
    ciphertext = bytes(ciphertext)
    if not ciphertext.startswith(MAGIC) or len(ciphertext) < 1 + NONCE_BYTES + 16:
        raise WrongKey("not a sealed value")
    body = ciphertext[1:]
    try:
        return AESGCM(raw).decrypt(
            body[:NONCE_BYTES], body[NONCE_BYTES:], _DATA_AAD + aad.encode("utf-8")
        )
    except InvalidTag as exc:
        raise WrongKey(f"the value does not open with data key {key.pk} and aad {aad!r}") from exc


def shred(key: DataKey) -> None:
    """Destroy the data key for good. Everything sealed with it becomes unreadable."""
    from django.utils import timezone

    from defensa.core.crypto.models import DataKey

    DataKey.objects.filter(pk=key.pk).update(wrapped=None, shredded_at=timezone.now())
    key.wrapped = None
    key.shredded_at = timezone.now()


def rewrap_all(*, batch: int = 500) -> int:
    """Re-wrap every live data key not under the current master key. Ciphertext untouched.

    Returns how many keys were re-wrapped. Safe to interrupt and run again.
    """
    from django.db import transaction

    from defensa.core.crypto.models import DataKey

    current = master_keys().current_id
    done = 0
    while True:
        with transaction.atomic():
            todo = list(
                DataKey.objects.select_for_update()
                .filter(wrapped__isnull=False)
                .exclude(master_key_id=current)
                .order_by("pk")[:batch]
            )
            if not todo:
                return done
            for key in todo:
                key.master_key_id, key.wrapped = _wrap(_unwrap(key))
            DataKey.objects.bulk_update(todo, ["master_key_id", "wrapped"])
            done += len(todo)


# --- model columns ----------------------------------------------------------------------


def aad_for(obj: Model, field_name: str) -> str:
    """The associated data binding a column's ciphertext to its row and column."""
    if obj.pk is None:
        raise ValueError(f"save the {type(obj).__name__} before sealing: its pk is in the aad")
    return f"{obj._meta.label_lower}.{field_name}#{obj.pk}"


def aad_for_row(model: type[Model], field_name: str, pk: int) -> str:
    """`aad_for` by the row's model and primary key, for rows sealed without an instance."""
    return f"{model._meta.label_lower}.{field_name}#{pk}"


def _column(obj: Model, field_name: str) -> Any:
    from defensa.core.crypto.fields import EncryptedField

    field = obj._meta.get_field(field_name)
    if not isinstance(field, EncryptedField):
        raise TypeError(f"{type(obj).__name__}.{field_name} is not an EncryptedField")
    return field


def seal(obj: Model, field_name: str, value: str | bytes | None) -> None:
    """Encrypt `value` into obj.<field_name> (the caller saves). None or "" clears it.

    When the row has no data key yet, a new one is made and set on the key field.
    """
    field = _column(obj, field_name)
    if value is None or value in ("", b""):
        setattr(obj, field.attname, None)
        return
    key = getattr(obj, field.key_field)
    if key is None:
        key = new_key(obj._meta.label_lower)
        setattr(obj, field.key_field, key)
    setattr(obj, field.attname, encrypt(key, value, aad=aad_for(obj, field_name)))


def unseal_bytes(obj: Model, field_name: str) -> bytes | None:
    field = _column(obj, field_name)
    blob = getattr(obj, field.attname)
    if blob is None:
        return None
    key = getattr(obj, field.key_field)
    if key is None:
        raise WrongKey(f"{type(obj).__name__}.{field_name} has ciphertext but no data key")
    return decrypt(key, blob, aad=aad_for(obj, field_name))


def unseal(obj: Model, field_name: str) -> str | None:
    """The plaintext of obj.<field_name> as text, or None when empty."""
    raw = unseal_bytes(obj, field_name)
    return raw.decode("utf-8") if raw is not None else None


def seal_json(obj: Model, field_name: str, value: Any) -> None:
    seal(obj, field_name, None if value is None else json.dumps(value, ensure_ascii=False))


def unseal_json(obj: Model, field_name: str) -> Any:
    raw = unseal_bytes(obj, field_name)
    return json.loads(raw) if raw is not None else None
