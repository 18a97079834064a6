"""EncryptedField: a column that can only ever hold ciphertext made by defensa.core.crypto."""

from __future__ import annotations

from typing import Any

from django.db import models

MAGIC = b"\x01"  # format version of a sealed value: MAGIC + 12-byte nonce + ciphertext + tag


class PlaintextRefused(TypeError):
    """Something tried to store a value that is not sealed ciphertext in an EncryptedField."""


class EncryptedField(models.BinaryField):
    """Ciphertext sealed with the data key in the sibling ForeignKey named `key_field`.

    The attribute holds bytes of ciphertext, never plaintext: templates, serializers (and so
    backups) and logs only ever see noise. Write with `crypto.seal(obj, name, value)`, read
    with `crypto.unseal(obj, name)`. Saving anything else raises PlaintextRefused.
    """

    def __init__(self, *args: Any, key_field: str = "data_key", **kwargs: Any) -> None:
        self.key_field = key_field
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["key_field"] = self.key_field
        kwargs.pop("null", None)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, memoryview):
            value = bytes(value)
        if not isinstance(value, bytes) or not value.startswith(MAGIC) or len(value) < 29:
            raise PlaintextRefused(
                f"{self.model.__name__}.{self.name} holds ciphertext only: use crypto.seal()"
            )
        return super().get_prep_value(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> bytes | None:
        return bytes(value) if value is not None else None
