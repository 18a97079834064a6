"""Workers' heartbeats: what the health check and the metrics (defensa/ops) read."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.db import models
from django.utils import timezone

from defensa.core.classification import INTERNAL, FieldClass, c

# A worker that has not beaten for a day is gone; its row only says when it last ran.
HEARTBEAT_RETENTION = timedelta(days=1)


class Heartbeat(models.Model):
    """The last sign of life of one background process (`kind` "deliver", "periodic" ...).

    `process` names the process as `host:pid` so several worker machines are told apart;
    it holds nothing about any person."""

    RETENTION_ANCHOR = "beat_at"

    kind = models.CharField(max_length=40)
    process = models.CharField(max_length=120, unique=True)
    beat_at = models.DateTimeField(default=timezone.now)

    _c = c(INTERNAL, HEARTBEAT_RETENTION, "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "kind", "process", "beat_at"), _c
    )

    class Meta:
        indexes = [models.Index(fields=["kind", "-beat_at"], name="heartbeat_latest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.process}"
