"""The tamper-evident audit log (security property 16)."""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar

from django.db import models

from defensa.core.classification import AUDIT, INTERNAL, FieldClass, c


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
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()
