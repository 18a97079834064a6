"""The tamper-evident audit log (security property 16)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import ClassVar

from django.db import models

from defensa.core.classification import AUDIT, INTERNAL, FieldClass, c

# What the chain key is derived for, from the master keys (defensa/core/crypto/keys.py).
CHAIN_PURPOSE = "audit.chain"


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("audit entries cannot be changed")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    """One action: who (id), what (an action name), on what (type and id). Never content."""

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    committee_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # The master key (by id) whose derived chain key MACs this entry's hash (`mac`). Both
    # blank: written before the chain was keyed, accepted only as the chain's oldest part
    # (log.verify_chain). The hash stays a plain SHA-256 link, so content and order can be
    # checked even under a master key retired since; the MAC proves who wrote it.
    key_id = models.CharField(max_length=32, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")

    objects = AuditQuerySet.as_manager()

    _a = c(INTERNAL, AUDIT, "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "seq",
            "created_at",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "committee_id",
            "data",
            "prev_hash",
            "hash",
            "key_id",
            "mac",
        ),
        _a,
    )

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor_id", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("audit entries cannot be deleted")

    def canonical(self) -> bytes:
        body = {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "committee_id": self.committee_id,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }
        if self.key_id:
            # In the digest, so an entry cannot be moved under another key (or none).
            body["key_id"] = self.key_id
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        """The entry's digest and link: SHA-256 of its content (which names its key_id)."""
        return hashlib.sha256(self.canonical()).hexdigest()

    def compute_mac(self) -> str:
        """HMAC-SHA256 of the digest under the chain key of `key_id` (a key derived from that
        master key, never stored). Raises crypto.keys.UnknownMasterKey when it is not
        configured."""
        from defensa.core.crypto.keys import derived_key

        _id, key = derived_key(CHAIN_PURPOSE, self.key_id)
        return hmac.new(key, self.hash.encode(), hashlib.sha256).hexdigest()
