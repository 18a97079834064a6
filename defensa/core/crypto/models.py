"""DataKey: one AES-256 key per record (or per group of records), stored only wrapped."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from defensa.core.classification import INTERNAL, SECRET, SYSTEM, FieldClass, c


class DataKey(models.Model):
    """A data key, wrapped (AES-256-GCM) by the master key named `master_key_id`.

    `wrapped` is NULL once the key is shredded: the records it protected are then noise.
    The row stays as a tombstone so reading such a record says "shredded", not "corrupt".
    """

    master_key_id = models.CharField(max_length=32)
    wrapped = models.BinaryField(null=True, editable=False)
    # What the key protects, e.g. "reports.report": for operators and the purge, never content.
    purpose = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=timezone.now)
    shredded_at = models.DateTimeField(null=True, blank=True)

    # A data key lives exactly as long as the records it protects: they shred it when they go.
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            ("id", "master_key_id", "purpose", "created_at", "shredded_at"),
            c(INTERNAL, SYSTEM, "admin"),
        ),
        "wrapped": c(SECRET, SYSTEM),
    }

    class Meta:
        indexes = [models.Index(fields=["master_key_id"], name="crypto_datakey_master")]

    def __str__(self) -> str:
        return f"DataKey {self.pk} ({self.purpose})"

    @property
    def shredded(self) -> bool:
        return self.wrapped is None


class DigestKey(models.Model):
    """The key of one kind of keyed digest (opt-outs, SMS senders): a data key of its own.

    The digest key is random and stored like any data key, wrapped by the master key, so a
    copy of the database alone (a backup, a dump) cannot compute or reverse a digest, and
    rotating the master key re-wraps it without changing a single digest.
    """

    name = models.CharField(max_length=40, unique=True)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "name", "created_at"), c(INTERNAL, SYSTEM, "admin")),
        "data_key": c(SECRET, SYSTEM),
    }

    def __str__(self) -> str:
        return f"DigestKey {self.name}"


class SealedFile(models.Model):
    """A stored file (defensa.core.media) encrypted before it left the web process: its name
    in the store and the data key it is sealed under. Deleting the file shreds the key, so a
    copy the store kept (a version, a replica) is noise from that moment."""

    name = models.CharField(max_length=200, unique=True)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "name", "created_at"), c(INTERNAL, SYSTEM, "admin")),
        "data_key": c(SECRET, SYSTEM),
    }

    def __str__(self) -> str:
        return f"SealedFile {self.name}"
