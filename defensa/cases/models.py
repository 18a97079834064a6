"""Cases of detained people for the legal team, and members' emergency plans.

Everything that names the person (name, A-number, date and country of birth), their family's
contacts and case notes is ciphertext under ONE data key per case (defensa.core.crypto):
shredding the case's key erases all of it, also in old backups once the master key rotates.
An emergency plan has its own key. Only the committee's legal team reads a case
(defensa/cases/access.py); everyone else learns at most that a case exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    ACCOUNT,
    COMMITTEE,
    INTERNAL,
    SENSITIVE,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH
from defensa.core.transitions import check_move

# A case is a legal record: kept three years after its last change, and never purged while it
# is still open. Its parts (contacts, tasks, hearings, timeline) live and die with it: their
# retention is the case's ("committee" below: they end when their case does, by cascade).
CASE_RETENTION = dt.timedelta(days=3 * 365)
TRIGGER_RETENTION = dt.timedelta(days=365)
LEGAL = ("legal",)


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    LOCATED = "located", _("Located")
    ATTORNEY = "attorney", _("Attorney assigned")
    CONSULTED = "consulted", _("Consultation done")
    HEARING = "hearing", _("Hearing scheduled")
    BOND = "bond", _("Bond")
    RELEASED = "released", _("Released")
    REMOVED = "removed", _("Removed")
    CLOSED = "closed", _("Closed")


PIPELINE: tuple[str, ...] = (
    Status.REPORTED,
    Status.LOCATED,
    Status.ATTORNEY,
    Status.CONSULTED,
    Status.HEARING,
    Status.BOND,
)
OPEN_STATUSES: tuple[str, ...] = PIPELINE
ENDINGS: tuple[str, ...] = (Status.RELEASED, Status.REMOVED, Status.CLOSED)


def _transitions() -> dict[str, frozenset[str]]:
    """Forward along the pipeline (steps may be skipped: facts arrive out of order), one step
    back (a transfer means locating the person again), or to an ending. Released or removed
    cases may be closed; a closed case stays closed (open a new one)."""
    moves: dict[str, frozenset[str]] = {}
    for i, status in enumerate(PIPELINE):
        back = {PIPELINE[i - 1]} if i else set()
        moves[status] = frozenset({*PIPELINE[i + 1 :], *back, *ENDINGS})
    moves[Status.RELEASED] = frozenset({Status.CLOSED})
    moves[Status.REMOVED] = frozenset({Status.CLOSED})
    moves[Status.CLOSED] = frozenset()
    return moves


TRANSITIONS = _transitions()


class Source(models.TextChoices):
    INCIDENT = "incident", _("An incident")
    HOTLINE = "hotline", _("A hotline call")
    PLAN = "plan", _("An emergency plan")
    CHECKIN = "checkin", _("An accompaniment check-in")
    EVENT = "event", _("An arrest at an event")
    OTHER = "other", _("Other")


class Facility(models.Model):
    """A detention facility or holding room. The network extends the list."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "name", "city", "added_by", "created_at"), c(INTERNAL, COMMITTEE, *LEGAL)
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return f"{self.name} ({self.city})" if self.city else self.name


# A starting list of detention facilities in and around Los Angeles (public names). Not a
# data migration: `manage.py restore` needs a migrated database with no rows at all. The demo
# seed adds them; a network adds its own from any case page (docs/cases.md).
DEFAULT_FACILITIES: tuple[tuple[str, str], ...] = (
    ("B-18 (ICE holding, 300 N Los Angeles St)", "Los Angeles"),
    ("Metropolitan Detention Center", "Los Angeles"),
    ("Adelanto ICE Processing Center", "Adelanto"),
    ("Desert View Annex", "Adelanto"),
    ("Otay Mesa Detention Center", "San Diego"),
    ("Imperial Regional Detention Facility", "Calexico"),
    ("Golden State Annex", "McFarland"),
)


class BondStatus(models.TextChoices):
    NONE = "", _("No bond yet")
    REQUESTED = "requested", _("Requested")
    SET = "set", _("Set by the judge")
    DENIED = "denied", _("Denied")
    RAISING = "raising", _("Raising the money")
    PAID = "paid", _("Paid")


class Case(models.Model):
    RETENTION_ANCHOR = "updated_at"
    RETENTION_KEEP = Q(status__in=OPEN_STATUSES)
    LEGAL_HOLD = "legal_hold"

    reference = models.CharField(_("reference"), max_length=10, unique=True)
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REPORTED
    )
    source = models.CharField(_("opened from"), max_length=10, choices=Source.choices)
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    report = models.ForeignKey(
        "reports.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    # The one key of the case: its identifiers, its family contacts and its notes.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_name = EncryptedField(key_field="data_key")
    a_number = EncryptedField(key_field="data_key")
    birth_date = EncryptedField(key_field="data_key")
    birth_country = EncryptedField(key_field="data_key")
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    attorney = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases_as_attorney",
        verbose_name=_("attorney"),
    )
    # An attorney from outside the network (an organisation, a private lawyer).
    attorney_outside = models.CharField(
        _("or an attorney outside the network"), max_length=120, blank=True
    )
    bond_amount = models.PositiveIntegerField(_("bond amount (dollars)"), null=True, blank=True)
    bond_status = models.CharField(
        _("bond status"), max_length=10, choices=BondStatus.choices, blank=True, default=""
    )
    bond_fund = models.CharField(_("bond fund"), max_length=120, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # While a LegalHold holds it, nothing of it is purged.
    legal_hold = models.BooleanField(_("legal hold"), default=False)

    _i = c(INTERNAL, CASE_RETENTION, *LEGAL)
    _s = c(SENSITIVE, CASE_RETENTION, "legal-reveal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "reference",
                "committee",
                "status",
                "source",
                "incident",
                "report",
                "facility",
                "attorney",
                "attorney_outside",
                "bond_amount",
                "bond_status",
                "bond_fund",
                "opened_by",
                "created_at",
                "updated_at",
                "legal_hold",
            ),
            _i,
        ),
        **dict.fromkeys(("data_key", "person_name", "a_number", "birth_date", "birth_country"), _s),
    }

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["committee", "status"], name="cases_by_status")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_become(self, status: str) -> bool:
        return status in TRANSITIONS.get(self.status, frozenset())

    def next_statuses(self) -> list[tuple[str, str]]:
        return [(s, label) for s, label in Status.choices if self.can_become(s)]

    def move_to(self, status: str) -> str:
        """Change status in memory, rejecting a move the pipeline does not allow
        (IllegalTransition); return the old status."""
        check_move(TRANSITIONS, self.status, status)
        old, self.status = self.status, status
        return old


class Transfer(models.Model):
    """Where the person was held, one row per move: the transfer history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    since = models.DateField(_("since"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "case", "facility", "since", "recorded_by", "created_at"),
        c(INTERNAL, COMMITTEE, *LEGAL),
    )

    class Meta:
        ordering = ["-since", "-id"]

    def __str__(self) -> str:
        return f"Transfer #{self.pk}"


class HearingKind(models.TextChoices):
    MASTER = "master", _("Master calendar hearing")
    INDIVIDUAL = "individual", _("Individual (merits) hearing")
    BOND = "bond", _("Bond hearing")
    CHECKIN = "checkin", _("ICE check-in")
    OTHER = "other", _("Other")


class Hearing(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hearings")
    kind = models.CharField(_("kind"), max_length=12, choices=HearingKind.choices)
    at = models.DateTimeField(_("when"))
    place = models.CharField(_("court or office"), max_length=160, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "case", "kind", "at", "place", "created_by", "created_at"),
        c(INTERNAL, COMMITTEE, *LEGAL),
    )

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"Hearing #{self.pk}"


class ContactChannel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")


class FamilyContact(models.Model):
    """Someone to keep informed: sealed under the case's own key (shared with the case)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = EncryptedField(key_field="data_key")
    relation = EncryptedField(key_field="data_key")
    address = EncryptedField(key_field="data_key")  # a phone number or an email
    language = models.CharField(_("language"), max_length=LANGUAGE_CODE_LENGTH, default="es")
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            ("id", "case", "language", "channel", "created_at"), c(INTERNAL, COMMITTEE, *LEGAL)
        ),
        **dict.fromkeys(
            ("data_key", "name", "relation", "address"), c(SENSITIVE, COMMITTEE, "legal-reveal")
        ),
    }

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Family contact #{self.pk}"


class TaskKind(models.TextChoices):
    CONSULTATION = "consultation", _("Attorney consultation within 48 hours")
    OTHER = "other", _("Task")


class Task(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=14, choices=TaskKind.choices, default=TaskKind.OTHER)
    title = models.CharField(_("what to do"), max_length=160, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_tasks",
        verbose_name=_("who"),
    )
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set once, when the overdue task was escalated to the legal team (never twice).
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "case",
            "kind",
            "title",
            "owner",
            "due_at",
            "done_at",
            "done_by",
            "escalated_at",
            "created_at",
        ),
        c(INTERNAL, COMMITTEE, *LEGAL),
    )

    class Meta:
        ordering = ["done_at", "due_at"]
        indexes = [
            models.Index(
                fields=["due_at"], name="cases_task_due", condition=Q(done_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return str(self.title or self.get_kind_display())

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.done_at is None and self.due_at < (now or timezone.now())


class EntryAction(models.TextChoices):
    OPENED = "opened", _("Case opened")
    STATUS = "status", _("Status changed")
    PERSON = "person", _("Identifiers changed")
    TRANSFER = "transfer", _("Moved to a facility")
    ATTORNEY = "attorney", _("Attorney changed")
    HEARING = "hearing", _("Hearing added")
    BOND = "bond", _("Bond changed")
    CONTACT = "contact", _("Family contact added")
    TASK = "task", _("Task added")
    TASK_DONE = "task_done", _("Task done")
    ESCALATED = "escalated", _("Overdue task escalated to the legal team")
    NOTE = "note", _("Note")
    REVEALED = "revealed", _("Identifiers shown")


class Entry(models.Model):
    """One step in a case's history. Its note is ciphertext under the case's key; each entry
    is sealed by one audit record holding the SHA-256 of that ciphertext (cases/timeline.py)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=12, choices=EntryAction.choices)
    at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)  # ids and short words only
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = EncryptedField(key_field="data_key")

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            ("id", "case", "actor", "action", "at", "detail"), c(INTERNAL, COMMITTEE, *LEGAL)
        ),
        **dict.fromkeys(("data_key", "note"), c(SENSITIVE, COMMITTEE, *LEGAL)),
    }

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"


# Emergency plans -----------------------------------------------------------------------


class EmergencyPlan(models.Model):
    """What a member wants done if they are detained: written ahead, sealed with its own key.

    `contacts` is a sealed JSON list of {name, address, channel, language}; `identity` a sealed
    JSON object of the identifiers the legal team will need (name, a_number, birth_date,
    birth_country); `instructions` sealed text (children, attorney, documents).
    """

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="emergency_plan"
    )
    # The committee whose legal team takes the case when the plan is triggered.
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="emergency_plans"
    )
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contacts = EncryptedField(key_field="data_key")
    instructions = EncryptedField(key_field="data_key")
    identity = EncryptedField(key_field="data_key")
    contact_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            ("id", "owner", "committee", "contact_count", "created_at", "updated_at"),
            c(INTERNAL, ACCOUNT, "self", "dispatcher"),
        ),
        **dict.fromkeys(
            ("data_key", "contacts", "instructions", "identity"), c(SENSITIVE, ACCOUNT, "self")
        ),
    }

    def __str__(self) -> str:
        return f"Emergency plan #{self.pk}"


class TriggerVia(models.TextChoices):
    SELF = "self", _("The member")
    DISPATCHER = "dispatcher", _("A dispatcher")
    HOTLINE = "hotline", _("A trusted contact, through the hotline")


class PlanTrigger(models.Model):
    plan = models.ForeignKey(EmergencyPlan, on_delete=models.CASCADE, related_name="triggers")
    via = models.CharField(max_length=12, choices=TriggerVia.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_triggers"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancel_until = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "plan",
            "via",
            "triggered_by",
            "case",
            "created_at",
            "cancel_until",
            "cancelled_at",
            "cancelled_by",
        ),
        c(INTERNAL, TRIGGER_RETENTION, "self", "dispatcher", *LEGAL),
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Plan trigger #{self.pk}"

    def can_cancel(self, now: dt.datetime | None = None) -> bool:
        return self.cancelled_at is None and (now or timezone.now()) < self.cancel_until


# Legal holds ---------------------------------------------------------------------------


class LegalHold(models.Model):
    """The legal team keeps an incident or a case (and its evidence) past every lifetime.

    While a hold is in force (`released_at` empty) the held row's `legal_hold` flag is set and
    purge_expired deletes nothing of it (defensa/core/retention.py, `LEGAL_HOLD` on each
    model). Placing is one legal-team member's act; releasing takes two: one asks, another
    approves (cases.actions). Every step is audited.
    """

    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="legal_holds"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="legal_holds",
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="legal_holds"
    )
    reason = models.CharField(_("why"), max_length=200)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    release_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_requested_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "committee",
                "incident",
                "case",
                "placed_by",
                "placed_at",
                "release_requested_by",
                "release_requested_at",
                "released_by",
                "released_at",
            ),
            c(INTERNAL, COMMITTEE, *LEGAL),
        ),
        # A short reason ("subpoena in Doe v. ICE"), never a person's identifiers.
        "reason": c(SENSITIVE, COMMITTEE, *LEGAL),
    }

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=True, case__isnull=False)
                | Q(incident__isnull=False, case__isnull=True),
                name="hold_on_incident_or_case",
            ),
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(released_at__isnull=True, incident__isnull=False),
                name="one_hold_per_incident",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(released_at__isnull=True, case__isnull=False),
                name="one_hold_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold {self.pk}"

    @property
    def target(self) -> Any:
        return self.incident if self.incident_id else self.case
