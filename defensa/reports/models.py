"""Reports: what one person told us, by any channel. Many reports make one incident."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, SECRET, SENSITIVE, FieldClass, c
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH
from defensa.incidents.models import INCIDENT_RETENTION, Category

# What a reporter told us is kept six months: long enough for a legal team to ask for it,
# short enough that a seized server says little about last year. The purge job arrives with
# the retention issue; this is the lifetime it will enforce.
REPORT_RETENTION = dt.timedelta(days=180)
# A way to reach the reporter serves a call back in the first hours or days; after a month
# it only serves someone who wants to find them. purge_expired blanks it and shreds its key.
CONTACT_RETENTION = dt.timedelta(days=30)


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    SMS = "sms", _("Text message")
    OPERATOR = "operator", _("Hotline operator")
    VOICE = "voice", _("Voice message")


class LocationKind(models.TextChoices):
    GPS = "gps", _("Phone location")
    PIN = "pin", _("Map pin")
    CROSS_STREETS = "cross_streets", _("Address or cross streets")
    ZIP = "zip", _("ZIP code only")
    NONE = "none", _("No location")


class Report(models.Model):
    """One report.

    A reporter's phone or email is the most dangerous thing we could hold about them: it is
    optional, stored only encrypted under the report's own data key (defensa.core.crypto),
    shown only to the committee's dispatchers and coordinators on request (each reveal
    audited), and shredded after CONTACT_RETENTION.
    """

    # Kept past its lifetime while its incident is under a legal hold (its contact is still
    # shredded after CONTACT_RETENTION: a hold keeps evidence, never a reporter's identity).
    LEGAL_HOLD = "incident__legal_hold"

    reference = models.CharField(_("reference"), max_length=8, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.CharField(_("what is happening"), max_length=20, choices=Category.choices)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    # Radius in metres within which the true place lies (a GPS fix: tens; a ZIP: kilometres).
    precision_m = models.PositiveIntegerField(null=True, blank=True)
    location_kind = models.CharField(
        max_length=16, choices=LocationKind.choices, default=LocationKind.NONE
    )
    location_text = models.CharField(_("address or cross streets"), max_length=200, blank=True)
    zip_code = models.CharField(_("ZIP code"), max_length=5, blank=True)
    observed_at = models.DateTimeField(_("when"))
    agents = models.PositiveSmallIntegerField(_("how many agents"), null=True, blank=True)
    vehicles = models.PositiveSmallIntegerField(_("how many vehicles"), null=True, blank=True)
    agency = models.CharField(_("which agency"), max_length=60, blank=True)
    description = models.TextField(_("what you saw"), max_length=2000, blank=True)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default="en")
    # SHA-256 of the client's idempotency key: enough to recognise a retry, nothing to show.
    idempotency_key = models.CharField(max_length=64, unique=True)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="reports"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Triage (defensa/incidents/triage.py): a digest of the words, normalised, to see the same
    # text sent again and again; whether the same text came in other reports; whether it came
    # in a burst from one source (counted in memory only, defensa/reports/flood.py).
    text_digest = models.CharField(max_length=16, blank=True)
    recycled = models.BooleanField(default=False)
    burst = models.BooleanField(default=False)
    # The optional way to call the reporter back: ciphertext only, see crypto.seal/unseal.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = EncryptedField(key_field="data_key")

    _r = c(INTERNAL, REPORT_RETENTION, "dispatcher", "coordinator", "legal")
    # Where and what the reporter said may point at them (a GPS fix taken at home, a name in
    # the description): need to know.
    _s = c(SENSITIVE, REPORT_RETENTION, "dispatcher", "coordinator", "legal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "reference",
                "channel",
                "category",
                "precision_m",
                "location_kind",
                "zip_code",
                "observed_at",
                "agents",
                "vehicles",
                "agency",
                "language",
                "incident",
                "created_at",
                "recycled",
                "burst",
            ),
            _r,
        ),
        **dict.fromkeys(("lat", "lon", "location_text", "description", "text_digest"), _s),
        "idempotency_key": c(SECRET, REPORT_RETENTION),
        **dict.fromkeys(
            ("contact", "data_key"), c(SENSITIVE, CONTACT_RETENTION, "dispatcher", "coordinator")
        ),
    }

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The same words sent again (reports.actions._same_words): one seek, not a scan
            # of every report that ever carried a campaign's text.
            models.Index(fields=["text_digest", "created_at"], name="reports_same_words"),
            # The few not yet marked: SQLite does not use a boolean column of an index's key
            # for "NOT recycled", but it does use a partial index on it.
            models.Index(
                fields=["text_digest", "created_at"],
                condition=models.Q(recycled=False),
                name="reports_same_words_unmarked",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def has_contact(self) -> bool:
        return self.contact is not None


class Photo(models.Model):
    """A photo sent with a report, re-encoded from its pixels (defensa/evidence/photos.py)."""

    # Deleted from MEDIA_ROOT with the row, however the row goes (defensa/core/retention.py).
    MEDIA_FIELDS = ("file",)
    # Evidence for court: it outlives its report and goes with its incident; never purged
    # while the incident is under a legal hold.
    LEGAL_HOLD = ("report__incident__legal_hold", "incident__legal_hold")

    # Emptied when the report is purged (its words and contact go; the photo stays)...
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    # ...and then the photo belongs to the incident the report was in (reports.apps).
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kept_photos",
    )
    # Under MEDIA_ROOT, a random name; never served by URL to the public.
    file = models.CharField(max_length=200)
    original_sha256 = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    _p = c(SENSITIVE, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("file", "width", "height"), _p),
        **dict.fromkeys(
            ("id", "report", "incident", "original_sha256", "sha256", "created_at"),
            c(INTERNAL, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal"),
        ),
    }

    def __str__(self) -> str:
        return f"Photo {self.sha256[:12]}"

    @classmethod
    def of_incident(cls, incident_id: int) -> models.QuerySet[Photo]:
        """Every report photo of an incident, also those kept after their report was purged."""
        return cls.objects.filter(
            models.Q(report__incident=incident_id)
            | models.Q(report__isnull=True, incident=incident_id)
        )


# A texter's thread lives a day at most: long enough to join follow-ups, short enough that a
# seized server says nothing about who texted last week. The purge job enforces it.
SMS_TEXT_RETENTION = dt.timedelta(days=1)


class SmsText(models.Model):
    """One inbound text that became (part of) a report; never the number, never the words.

    The words are in the report. The sender is a keyed hash (HMAC under a digest key wrapped
    by the master key, defensa/core/crypto/digests.py), enough to
    thread the next text from the same phone into the same report and nothing more.
    """

    # SHA-256 of the provider's message id: a provider retry is recognised and ignored.
    message_key = models.CharField(max_length=64, unique=True)
    sender = models.CharField(max_length=64)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="sms_texts")
    received_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            ("id", "message_key", "report", "received_at"), c(INTERNAL, SMS_TEXT_RETENTION)
        ),
        "sender": c(SECRET, SMS_TEXT_RETENTION),
    }

    class Meta:
        indexes = [models.Index(fields=["sender", "-received_at"], name="reports_sms_thread")]

    def __str__(self) -> str:
        return f"SMS text {self.pk}"
