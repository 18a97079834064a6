"""An import of a spreadsheet: one row per uploaded file, whatever kind of rows it holds."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, SENSITIVE, FieldClass, c

# A job and its error report live a week: long enough to fix the file and import it again.
IMPORT_RETENTION = dt.timedelta(days=7)


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for you to check the columns")
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Stopped by an error")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJob(models.Model):
    """One uploaded file of one kind (members, contacts ...) for one scope (a committee).

    The file itself is never in the database: it is stored encrypted under this job's data
    key, chunk by chunk (`imports.store`), and deleted when the import ends. The error
    report is stored the same way. Shredding the data key erases both for good.
    """

    RETENTION_ANCHOR = "created_at"
    # Deleted with the row however it goes (the purge also shreds the key that sealed them).
    MEDIA_FIELDS = ("upload_path", "errors_path")

    kind = models.CharField(max_length=40)
    # The id of what the rows go into (a committee for members); the kind knows its model.
    scope_id = models.PositiveBigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.UPLOADED)
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    size_bytes = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # Column titles as the file wrote them (e.g. "Teléfono"), and which of our fields each
    # one feeds ("" = ignored).
    header = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=list, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_new = models.PositiveIntegerField(default=0)
    rows_existing = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    # Lines not valid UTF-8, read as Windows-1252 instead (a file saved in two encodings).
    lines_recoded = models.PositiveIntegerField(default=0)
    has_error_report = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    _j = c(INTERNAL, IMPORT_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "kind",
                "scope_id",
                "created_by",
                "created_at",
                "status",
                "size_bytes",
                "encoding",
                "delimiter",
                "header",
                "mapping",
                "rows_total",
                "rows_done",
                "rows_new",
                "rows_existing",
                "rows_invalid",
                "lines_recoded",
                "has_error_report",
                "started_at",
                "finished_at",
            ),
            _j,
        ),
        # The key of the stored file and error report: both hold people's details.
        "data_key": c(SENSITIVE, IMPORT_RETENTION),
    }

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.kind})"

    @property
    def upload_path(self) -> str:
        return f"imports/{self.pk}.upload"

    @property
    def errors_path(self) -> str:
        return f"imports/{self.pk}.errors"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.is_finished else 0
        return min(100, self.rows_done * 100 // self.rows_total)

    def seconds_left(self, now: dt.datetime | None = None) -> int | None:
        """Time left at the pace so far; None before there is a pace to go by."""
        if self.is_finished or not self.started_at or not self.rows_done or not self.rows_total:
            return None
        elapsed = ((now or timezone.now()) - self.started_at).total_seconds()
        rate = self.rows_done / max(elapsed, 0.001)
        return max(0, round((self.rows_total - self.rows_done) / rate))
