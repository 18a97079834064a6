"""Evidence: videos sent with reports, and the photos and videos verifiers take on site.

Report photos predate this app and stay in `reports.Photo`; `record.listing` puts both
together. Every file here was stripped of its metadata before it touched the disk
(photos: re-encoded from their pixels; videos: remuxed by ffmpeg without metadata), and both
SHA-256 digests, of the upload and of the stored file, are kept and sealed in the audit chain.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import COMMITTEE, INTERNAL, SENSITIVE, FieldClass, c
from defensa.incidents.models import INCIDENT_RETENTION


class Kind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")


class Media(models.Model):
    """One photo or video: from a report (`report`) or from a verifier on site (`offer`)."""

    # Evidence for court outlives its report: when the report is purged this is emptied and
    # `incident` set to the report's incident (reports.apps), with which the file then goes.
    report = models.ForeignKey(
        "reports.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="media"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kept_media",
    )
    offer = models.ForeignKey(
        "dispatch.Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="media"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Under MEDIA_ROOT, a random name; never served to the public.
    file = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    original_sha256 = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Evidence for court: as long as the incident. What it shows is need-to-know. Never purged
    # while its incident is under a legal hold (defensa/core/retention.py).
    LEGAL_HOLD = (
        "report__incident__legal_hold",
        "offer__incident__legal_hold",
        "incident__legal_hold",
    )
    _m = c(INTERNAL, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal")
    # purge_expired deletes the file with its row (defensa/core/retention.py).
    MEDIA_FIELDS = ("file",)
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "report",
                "incident",
                "offer",
                "kind",
                "content_type",
                "original_sha256",
                "sha256",
                "size",
                "duration_ms",
                "created_at",
            ),
            _m,
        ),
        **dict.fromkeys(
            ("file", "width", "height"),
            c(SENSITIVE, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal"),
        ),
    }

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report__isnull=True, offer__isnull=False)
                | models.Q(report__isnull=False, offer__isnull=True)
                | models.Q(report__isnull=True, offer__isnull=True, incident__isnull=False),
                name="media_from_report_or_offer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"

    @classmethod
    def of_incident(cls, incident_id: int) -> models.QuerySet[Media]:
        """Every video and verifier's file of an incident: through its reports, its offers,
        or kept with it after its report was purged."""
        return cls.objects.filter(
            models.Q(report__incident=incident_id)
            | models.Q(offer__incident=incident_id)
            | models.Q(report__isnull=True, offer__isnull=True, incident=incident_id)
        )


class PublicPage(models.Model):
    """A committee's response rule: show its verified incidents on the public page (off).

    Read and switched by `defensa.record` (the public page lives there); the table stays in
    this app so that moving the page did not move any data.
    """

    committee = models.OneToOneField(
        "committees.Committee", on_delete=models.CASCADE, related_name="public_page"
    )
    show_verified = models.BooleanField(_("show verified incidents publicly"), default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "committee", "show_verified", "changed_by", "changed_at"),
        c(INTERNAL, COMMITTEE, "coordinator", "dispatcher"),
    )

    def __str__(self) -> str:
        return f"Public page of {self.committee}"
