"""Court and ICE check-in accompaniment: appointments, the volunteers who go, their feeds.

The legal team puts an appointment on the calendar. Who is accompanied (name, A-number) and
whom to tell if they are detained (emergency contacts) are ciphertext under the appointment's
own data key (defensa.core.crypto) and are read only by the committee's legal team. Volunteers
with the accompanier skill see the rest: where, when, which languages, how many still needed.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    ACCOUNT,
    COMMITTEE,
    INTERNAL,
    SECRET,
    SENSITIVE,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.transitions import check_move

# Who went where, and what happened, is kept half a year after the appointment (enough to
# answer "who was with her that day"); the person's identity and contacts only 30 days: a
# detention opens a case, which keeps its own sealed copy.
APPOINTMENT_RETENTION = dt.timedelta(days=180)
IDENTITY_RETENTION = dt.timedelta(days=30)
LEGAL = ("legal",)


class Kind(models.TextChoices):
    HEARING = "hearing", _("Court hearing")
    CHECKIN = "checkin", _("ICE check-in")


class PlaceKind(models.TextChoices):
    COURT = "court", _("Immigration court")
    FIELD_OFFICE = "office", _("ICE field office")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OUT_SAFE = "out_safe", _("Out safe")
    DETAINED = "detained", _("Detained")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CANCELLED = "cancelled", _("Cancelled")


# Which appointment status may follow which: the one table (docs/architecture.md, convention
# on transitions). A detention reported by a companion stands whatever was said before it.
APPOINTMENT_MOVES: dict[str, frozenset[str]] = {
    Status.SCHEDULED: frozenset(
        {Status.OUT_SAFE, Status.DETAINED, Status.RESCHEDULED, Status.CANCELLED}
    ),
    Status.OUT_SAFE: frozenset({Status.DETAINED}),
    Status.RESCHEDULED: frozenset({Status.DETAINED}),
    Status.CANCELLED: frozenset({Status.DETAINED}),
    Status.DETAINED: frozenset(),
}


class Outcome(models.TextChoices):
    """What a companion reports at the end (the order of the buttons on the phone page)."""

    OUT_SAFE = "out_safe", _("Out safe")
    DETAINED = "detained", _("Detained")
    RESCHEDULED = "rescheduled", _("Rescheduled")


# Languages an accompanied person may need help in: the ones Los Angeles courts hear most.
NEEDED_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("es", _("Spanish")),
    ("en", _("English")),
    ("mix", _("Mixtec")),
    ("zap", _("Zapotec")),
    ("quc", _("K'iche'")),
    ("pt", _("Portuguese")),
    ("ko", _("Korean")),
    ("zh", _("Chinese")),
    ("other", _("Another language")),
)
NEEDED_LANGUAGE_CODES = frozenset(code for code, _label in NEEDED_LANGUAGES)


class Place(models.Model):
    """A court or ICE field office. Public addresses; the network extends the list."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=PlaceKind.choices)
    address = models.CharField(_("street address"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "name", "kind", "address", "added_by", "created_at"),
        c(INTERNAL, COMMITTEE, "member"),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Appointment(models.Model):
    RETENTION_ANCHOR = "ends_at"
    RETENTION_KEEP = Q(status=Status.SCHEDULED)

    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="appointments"
    )
    kind = models.CharField(_("what"), max_length=8, choices=Kind.choices)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("expected end"))
    languages = models.CharField(_("languages needed"), max_length=60, blank=True)
    companions_needed = models.PositiveSmallIntegerField(_("companions needed"), default=2)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    # The person accompanied and whom to tell: sealed under this appointment's own key.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_name = EncryptedField(key_field="data_key")
    a_number = EncryptedField(key_field="data_key")
    contacts = EncryptedField(key_field="data_key")  # JSON [{name, address, channel, language}]
    contact_count = models.PositiveSmallIntegerField(default=0)
    # The case this appointment belongs to (set by the legal team, or opened by "detained").
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    # Bumped on every change, so calendar apps replace the event (RFC 5545 SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    # Set once, when a missing check-in was escalated to the legal team (never twice).
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, APPOINTMENT_RETENTION, "accompanier", *LEGAL)
    _l = c(INTERNAL, APPOINTMENT_RETENTION, *LEGAL)
    _s = c(SENSITIVE, IDENTITY_RETENTION, "legal-reveal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "committee",
                "kind",
                "place",
                "starts_at",
                "ends_at",
                "languages",
                "companions_needed",
                "status",
                "sequence",
            ),
            _i,
        ),
        **dict.fromkeys(
            ("contact_count", "case", "escalated_at", "created_by", "created_at", "updated_at"),
            _l,
        ),
        **dict.fromkeys(("data_key", "person_name", "a_number", "contacts"), _s),
    }

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["committee", "starts_at"], name="accomp_by_time"),
            models.Index(
                fields=["ends_at"],
                name="accomp_open_end",
                condition=Q(status="scheduled", escalated_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment #{self.pk}"

    def move_to(self, status: str) -> None:
        """Change the status in memory, or raise IllegalTransition (APPOINTMENT_MOVES)."""
        check_move(APPOINTMENT_MOVES, self.status, status)
        self.status = status

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    def language_labels(self) -> list[str]:
        labels = dict(NEEDED_LANGUAGES)
        return [str(labels.get(code, code)) for code in self.language_codes]

    @property
    def is_open(self) -> bool:
        return self.status == Status.SCHEDULED


class CompanionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the legal team")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Not needed this time")
    WITHDRAWN = "withdrawn", _("Withdrew")


# Which sign-up status may follow which: the one table. Declined and withdrawn end a
# sign-up; signing up again for the same appointment starts a new one on the same row
# (actions.volunteers.sign_up: a fresh link, a fresh status), not a move.
COMPANION_MOVES: dict[str, frozenset[str]] = {
    CompanionStatus.PENDING: frozenset(
        {CompanionStatus.CONFIRMED, CompanionStatus.DECLINED, CompanionStatus.WITHDRAWN}
    ),
    CompanionStatus.CONFIRMED: frozenset({CompanionStatus.DECLINED, CompanionStatus.WITHDRAWN}),
    CompanionStatus.DECLINED: frozenset(),
    CompanionStatus.WITHDRAWN: frozenset(),
}


class Companion(models.Model):
    """One volunteer signed up to go with the person to one appointment.

    The check-in link's token is an HMAC of the row's id and `nonce` under SECRET_KEY (like
    dispatch's offers): the database holds only its SHA-256, the outbox only the row's id.
    """

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="companions"
    )
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accompaniments"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CompanionStatus.choices,
        default=CompanionStatus.PENDING,
    )
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    arrived_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    reminded_day_at = models.DateTimeField(null=True, blank=True)
    reminded_soon_at = models.DateTimeField(null=True, blank=True)

    _c = c(INTERNAL, COMMITTEE, "self", *LEGAL)  # ends with its appointment (cascade)
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "appointment",
                "volunteer",
                "status",
                "created_at",
                "confirmed_at",
                "confirmed_by",
                "arrived_at",
                "outcome",
                "outcome_at",
                "reminded_day_at",
                "reminded_soon_at",
            ),
            _c,
        ),
        **dict.fromkeys(("nonce", "token_hash"), c(SECRET, COMMITTEE)),
    }

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "volunteer"], name="accomp_one_signup_each"
            )
        ]

    def __str__(self) -> str:
        return f"Companion #{self.pk}"

    def move_to(self, status: str) -> None:
        """Change the status in memory, or raise IllegalTransition (COMPANION_MOVES)."""
        check_move(COMPANION_MOVES, self.status, status)
        self.status = status


class FeedToken(models.Model):
    """A volunteer's secret calendar address. Only the token's SHA-256 is kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accompaniment_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": c(INTERNAL, ACCOUNT, "self"),
        "user": c(INTERNAL, ACCOUNT, "self"),
        "token_hash": c(SECRET, ACCOUNT),
        "created_at": c(INTERNAL, ACCOUNT, "self"),
    }

    def __str__(self) -> str:
        return f"Calendar feed #{self.pk}"
