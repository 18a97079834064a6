"""Organising: workplaces, the workers there, their assessments, and structure tests.

A Workplace belongs to the committee that organises there (an area committee, a workplace
committee or a union local). Its workers are members (an account) or contacts without one:
a contact's name and phone are sealed under the workplace's own data key, with a keyed digest
of the phone for finding duplicates and texts. Ending the workplace's campaign starts the
network's retention period; after it the contacts, their assessments and participations are
deleted and the key shredded (`actions.purge_ended_workplaces`).

An Assessment is one dated judgement on the network's scale, with who made it and why; rows
are only ever added, and a worker's current value is their latest. A StructureTest is a small
collective action with a goal and a deadline; a Participation says a worker took part, and how
it was recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    COMMITTEE,
    INTERNAL,
    SENSITIVE,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# The scale: 1 (leader, committed) ... 5 (opposed); 0 is "not assessed yet".
NOT_ASSESSED = 0
SCALE = (1, 2, 3, 4, 5)
DEFAULT_LABELS = {
    1: _("Leader, committed"),
    2: _("Supportive"),
    3: _("Undecided"),
    4: _("Not supportive"),
    5: _("Opposed"),
}
# Who is expected to take part in a structure test: those assessed 1 or 2.
SUPPORTIVE = (1, 2)
DEFAULT_CONTACT_RETENTION_DAYS = 180
MAX_CONTACT_RETENTION_DAYS = 730
# The longest anything tied to a contact may live, whatever happens: purge_expired's backstop
# (a workplace whose campaign never ends is reviewed before this).
CONTACT_BACKSTOP = dt.timedelta(days=365 * 5)
TEST_RETENTION = dt.timedelta(days=365 * 5)
MAX_DEADLINE = dt.timedelta(days=365)

CODE_LENGTH = 5


class Policy(models.Model):
    """A network's organising settings: its scale's labels and how long contacts are kept.

    The labels may change until the first assessment in the network; after that they are
    fixed, so an old "2" means what a new "2" means.
    """

    network = models.OneToOneField(
        "committees.Committee", on_delete=models.CASCADE, related_name="organising_policy"
    )
    # {"1": "...", ..., "5": "..."} in each language; blank means the default label.
    labels_en = models.JSONField(default=dict, blank=True)
    labels_es = models.JSONField(default=dict, blank=True)
    contact_retention_days = models.PositiveSmallIntegerField(
        _("days to keep contacts after a campaign ends"), default=DEFAULT_CONTACT_RETENTION_DAYS
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "network",
            "labels_en",
            "labels_es",
            "contact_retention_days",
            "updated_by",
            "updated_at",
        ),
        c(INTERNAL, COMMITTEE, "member"),
    )

    def __str__(self) -> str:
        return f"Organising policy of {self.network}"

    def label(self, value: int, language: str = "en") -> str:
        own = self.labels_es if language.startswith("es") else self.labels_en
        return str(own.get(str(value)) or DEFAULT_LABELS.get(value, "")) if value else ""


class Workplace(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="workplaces"
    )
    employer = models.CharField(_("employer"), max_length=120)
    site = models.CharField(_("site"), max_length=120, blank=True)
    sector = models.CharField(_("sector"), max_length=80, blank=True)
    area = models.CharField(_("address or area"), max_length=200, blank=True)
    headcount = models.PositiveIntegerField(_("estimated headcount"))
    departments = models.JSONField(_("departments"), default=list, blank=True)
    shifts = models.JSONField(_("shifts"), default=list, blank=True)
    union = models.CharField(_("union, if any"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Every contact's sealed fields and every assessment's reason: shredded together.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    _w = c(INTERNAL, COMMITTEE, "organiser", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "committee",
                "employer",
                "site",
                "sector",
                "area",
                "headcount",
                "departments",
                "shifts",
                "union",
                "created_by",
                "created_at",
                "ended_at",
            ),
            _w,
        ),
        "data_key": c(SENSITIVE, COMMITTEE, "organiser"),
    }

    class Meta:
        ordering = ["employer", "site"]

    def __str__(self) -> str:
        return f"{self.employer} – {self.site}" if self.site else self.employer

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class Worker(models.Model):
    """Someone who works at a workplace: a member (their account) or a contact (sealed)."""

    workplace = models.ForeignKey(Workplace, on_delete=models.CASCADE, related_name="workers")
    # A member's own account; the row dies with the account (a contact has none).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="organising_workers",
    )
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = EncryptedField(key_field="data_key")  # a name or nickname
    phone = EncryptedField(key_field="data_key")
    # Keyed digest of the normalised phone: one worker per phone per workplace, and the worker
    # a text comes from, without the phone.
    phone_digest = models.CharField(max_length=64, blank=True, default="")
    language = models.CharField(_("language"), max_length=LANGUAGE_CODE_LENGTH, default="en")
    department = models.CharField(_("department"), max_length=80, blank=True)
    shift = models.CharField(_("shift"), max_length=80, blank=True)
    is_leader = models.BooleanField(_("leader"), default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, CONTACT_BACKSTOP, "organiser")
    _s = c(SENSITIVE, CONTACT_BACKSTOP, "organiser")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "workplace",
                "user",
                "language",
                "department",
                "shift",
                "is_leader",
                "added_by",
                "added_at",
            ),
            _i,
        ),
        **dict.fromkeys(("data_key", "name", "phone", "phone_digest"), _s),
    }
    RETENTION_ANCHOR = "added_at"
    # An active campaign's workers stay; an ended one's go after the network's period
    # (organising_tick), CONTACT_BACKSTOP being purge_expired's backstop.
    RETENTION_KEEP = models.Q(workplace__ended_at__isnull=True)

    class Meta:
        ordering = ["department", "shift", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workplace", "phone_digest"],
                condition=~models.Q(phone_digest=""),
                name="one_worker_per_phone",
            ),
            models.UniqueConstraint(
                fields=["workplace", "user"],
                condition=models.Q(user__isnull=False),
                name="one_worker_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"Worker #{self.pk}"


class Assessment(models.Model):
    """One judgement: appended, never edited. The worker's current value is the latest."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="assessments")
    value = models.PositiveSmallIntegerField(_("assessment"))
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = EncryptedField(key_field="data_key")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, CONTACT_BACKSTOP, "organiser", "self")
    _s = c(SENSITIVE, CONTACT_BACKSTOP, "organiser", "self")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "worker", "value", "assessed_by", "assessed_at"), _i),
        **dict.fromkeys(("data_key", "reason"), _s),
    }
    RETENTION_ANCHOR = "assessed_at"
    RETENTION_KEEP = models.Q(worker__workplace__ended_at__isnull=True)

    class Meta:
        ordering = ["-assessed_at", "-pk"]
        indexes: ClassVar = [
            # A worker's latest value, or their value at a week's end, from the index alone
            # (the value is its last column: no row is read).
            models.Index(
                fields=["worker", "-assessed_at", "-id", "value"], name="assessment_latest"
            )
        ]

    def __str__(self) -> str:
        return f"Assessment #{self.pk}"


class ActionKind(models.TextChoices):
    PETITION = "petition", _("A petition")
    BUTTON = "button", _("Wearing a button")
    SIGNUP = "signup", _("A sign-up")
    MARCH = "march", _("A march on the boss")
    STRIKE_VOTE = "strike_vote", _("A practice strike vote")
    OTHER = "other", _("Another action")


class StructureTest(models.Model):
    """A small collective action that tests the structure before a big one."""

    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="structure_tests"
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("action"), max_length=12, choices=ActionKind.choices)
    workplaces = models.ManyToManyField(Workplace, related_name="structure_tests")
    # Only these departments of the workplaces; empty means all of them.
    departments = models.JSONField(_("departments"), default=list, blank=True)
    goal_percent = models.PositiveSmallIntegerField(_("goal (% of the unit)"))
    deadline = models.DateTimeField(_("deadline"))
    code = models.CharField(max_length=12, unique=True)  # for texts: "ACTION K7Q2M"
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    _t = c(INTERNAL, TEST_RETENTION, "organiser", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "committee",
            "title",
            "kind",
            "workplaces",
            "departments",
            "goal_percent",
            "deadline",
            "code",
            "created_by",
            "created_at",
        ),
        _t,
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return timezone.now() < self.deadline


class Via(models.TextChoices):
    ORGANISER = "organiser", _("Recorded by an organiser")
    WEB = "web", _("The worker's own link")
    SMS = "sms", _("A text message")


class Participation(models.Model):
    """A worker took part in a structure test (once; the first record stands)."""

    test = models.ForeignKey(StructureTest, on_delete=models.CASCADE, related_name="participations")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="participations")
    via = models.CharField(max_length=10, choices=Via.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    _p = c(INTERNAL, CONTACT_BACKSTOP, "organiser", "self")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "test", "worker", "via", "recorded_by", "recorded_at"), _p
    )
    RETENTION_ANCHOR = "recorded_at"
    RETENTION_KEEP = models.Q(worker__workplace__ended_at__isnull=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["test", "worker"], name="one_participation")
        ]

    def __str__(self) -> str:
        return f"Participation #{self.pk}"
