"""Events: protests, rallies, pickets, trainings, meetings, with shifts, RSVPs and check-in.

An Event belongs to the committee that organises it. Its time is stored in UTC and entered and
shown in the committee's time zone. Its place has two levels: `area` (coarse words, shown to
anyone who may see the event) and `place` (the exact spot, shown only to people whose RSVP is
confirmed and to the organisers). Members-only events are seen by the members of the
committee and the committees under it; public events also have a public page (by `code`)
where anyone RSVPs with a phone number, or by texting the code.

An Rsvp is one person's "I'm coming": to the event itself (no shift) or to one of its shifts.
A member's RSVP names the account (and dies with it); someone without an account is known by
a keyed digest of their phone number (so one number RSVPs once and their attendance history
adds up across events) with the number itself sealed under the event's data key.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import SkillKind
from defensa.core.classification import INTERNAL, SENSITIVE, FieldClass, c
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# Events and who came are the committee's record of its actions (attendance history, picket
# hours for a strike fund); after two years they go.
EVENT_RETENTION = dt.timedelta(days=365 * 2)

CODE_LENGTH = 6


class Kind(models.TextChoices):
    PROTEST = "protest", _("Protest")
    RALLY = "rally", _("Rally")
    PICKET = "picket", _("Picket")
    TRAINING = "training", _("Training")
    MEETING = "meeting", _("Meeting")


class Visibility(models.TextChoices):
    MEMBERS = "members", _("Members only")
    PUBLIC = "public", _("Public: anyone can RSVP with a phone number")


class Role(models.TextChoices):
    PICKET = "picket", _("Picket line")
    MARSHAL = "marshal", _("Marshal")
    LEGAL_OBSERVER = "legal_observer", _("Legal observer")
    MEDIC = "medic", _("Medic")
    INTERPRETER = "interpreter", _("Interpreter")
    HELPER = "helper", _("Helper")


# Roles where it matters who stands there: only people holding the current skill (granted
# by a coordinator, accounts.TRUSTED_SKILLS) may sign up.
ROLE_SKILLS: dict[str, str] = {
    Role.LEGAL_OBSERVER: SkillKind.LEGAL_OBSERVER,
    Role.INTERPRETER: SkillKind.INTERPRETER,
}


class Event(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    area = models.CharField(_("general area"), max_length=120)
    place = models.CharField(_("exact place"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    languages = models.JSONField(_("languages"), default=list)
    visibility = models.CharField(_("who can come"), max_length=8, choices=Visibility.choices)
    code = models.CharField(max_length=CODE_LENGTH, unique=True)
    checkin_code = models.CharField(max_length=CODE_LENGTH)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Phone numbers of RSVPs without an account are sealed under the event's key.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    _m = c(INTERNAL, EVENT_RETENTION, "member", "coordinator")
    _o = c(INTERNAL, EVENT_RETENTION, "coordinator", "confirmed", "marshal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "committee",
                "kind",
                "title",
                "description",
                "starts_at",
                "ends_at",
                "area",
                "capacity",
                "languages",
                "visibility",
                "code",
                "cancelled_at",
                "created_at",
            ),
            _m,
        ),
        **dict.fromkeys(("place", "checkin_code", "created_by"), _o),
        "data_key": c(SENSITIVE, EVENT_RETENTION, "coordinator"),
    }
    RETENTION_ANCHOR = "ends_at"

    class Meta:
        ordering: ClassVar = ["starts_at"]

    def __str__(self) -> str:
        return f"Event {self.code}"

    @property
    def local_start(self) -> dt.datetime:
        return timezone.localtime(self.starts_at, self.committee.tz)

    @property
    def local_end(self) -> dt.datetime:
        return timezone.localtime(self.ends_at, self.committee.tz)

    @property
    def has_ended(self) -> bool:
        return timezone.now() >= self.ends_at

    @property
    def takes_rsvps(self) -> bool:
        return self.cancelled_at is None and not self.has_ended

    def language_labels(self) -> list[str]:
        names = dict(settings.LANGUAGES)
        return [str(names[code]) for code in self.languages if code in names]


class Shift(models.Model):
    """A stretch of the event with a role and a number of places (a picket shift, marshals)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="shifts")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))

    _m = c(INTERNAL, EVENT_RETENTION, "member", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "event", "role", "starts_at", "ends_at", "capacity"), _m
    )
    RETENTION_ANCHOR = "ends_at"

    class Meta:
        ordering: ClassVar = ["starts_at", "role", "pk"]

    def __str__(self) -> str:
        return f"Shift #{self.pk}"

    @property
    def skill(self) -> str:
        return ROLE_SKILLS.get(self.role, "")

    @property
    def local_start(self) -> dt.datetime:
        return timezone.localtime(self.starts_at, self.event.committee.tz)

    @property
    def local_end(self) -> dt.datetime:
        return timezone.localtime(self.ends_at, self.event.committee.tz)

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class RsvpStatus(models.TextChoices):
    GOING = "going", _("Confirmed")
    WAITLIST = "waitlist", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Channel(models.TextChoices):
    WEB = "web", _("Web page")
    SMS = "sms", _("Text message")
    MEMBER = "member", _("Signed-in member")


class Rsvp(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.CASCADE, related_name="rsvps"
    )
    # A member's RSVP dies with the account; a phone RSVP has no account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="event_rsvps",
    )
    # Keyed digest of the phone number (or of the account id for a member without one).
    digest = models.CharField(max_length=64)
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phone = EncryptedField(key_field="data_key")
    # The number's last two digits, so a marshal can tell phone RSVPs apart on the list.
    phone_end = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default="en")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=RsvpStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    reminded_2h_at = models.DateTimeField(null=True, blank=True)

    _i = c(INTERNAL, EVENT_RETENTION, "self", "coordinator", "marshal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "event",
                "shift",
                "user",
                "phone_end",
                "language",
                "channel",
                "status",
                "created_at",
                "checked_in_at",
                "checked_in_by",
                "reminded_24h_at",
                "reminded_2h_at",
            ),
            _i,
        ),
        **dict.fromkeys(
            ("digest", "data_key", "phone"), c(SENSITIVE, EVENT_RETENTION, "coordinator-reveal")
        ),
    }
    RETENTION_ANCHOR = "created_at"

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["event", "digest"],
                condition=Q(shift__isnull=True),
                name="one_event_rsvp_per_person",
            ),
            models.UniqueConstraint(
                fields=["shift", "digest"],
                condition=Q(shift__isnull=False),
                name="one_shift_rsvp_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"RSVP #{self.pk}"

    @property
    def starts_at(self) -> dt.datetime:
        return self.shift.starts_at if self.shift_id else self.event.starts_at  # type: ignore[union-attr]


class Arrest(models.Model):
    """A legal observer's report of an arrest at the event; the case holds the person."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="arrests")
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)

    _l = c(INTERNAL, EVENT_RETENTION, "legal", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "event", "case", "reported_by", "reported_at"), _l
    )
    RETENTION_ANCHOR = "reported_at"

    def __str__(self) -> str:
        return f"Arrest #{self.pk}"


# Wrong check-in codes are kept a short while, to stop guessing; then they go.
MISS_RETENTION = dt.timedelta(days=1)


class CheckinMiss(models.Model):
    """One wrong check-in code typed by a member: five in 15 minutes and the form stops."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    _s = c(INTERNAL, MISS_RETENTION, "system")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "event", "user", "at"), _s
    )
    RETENTION_ANCHOR = "at"

    def __str__(self) -> str:
        return f"Check-in miss #{self.pk}"
