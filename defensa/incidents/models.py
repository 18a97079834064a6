"""Incidents: one event (a raid, an arrest) that many reports may describe, and its timeline."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, SENSITIVE, FieldClass, c
from defensa.core.transitions import check_move

# Incidents are the evidence a legal team may need in court: kept two years unless a purge
# policy of the network says otherwise (the purge job arrives with the retention issue).
INCIDENT_RETENTION = dt.timedelta(days=730)


class Category(models.TextChoices):
    WORKPLACE_RAID = "workplace_raid", _("Workplace raid")
    HOME_ARREST = "home_arrest", _("Arrest at a home")
    VEHICLE_STOP = "vehicle_stop", _("Vehicle stop")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    COURT_ARREST = "court_arrest", _("Arrest at a court or check-in")
    SIGHTING = "sighting", _("Agents seen")
    OTHER = "other", _("Something else")


class State(models.TextChoices):
    NEW = "new", _("New, not verified")
    VERIFYING = "verifying", _("Being verified")
    CONFIRMED = "confirmed", _("Confirmed")
    FALSE_ALARM = "false_alarm", _("False alarm")
    CLOSED = "closed", _("Closed")


# Legal transitions (security property 18). Only a verifier's or dispatcher's finding moves an
# incident to confirmed or false alarm; a "not found" sends it back to new for another look.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.NEW: frozenset({State.VERIFYING, State.CONFIRMED, State.FALSE_ALARM, State.CLOSED}),
    State.VERIFYING: frozenset({State.NEW, State.CONFIRMED, State.FALSE_ALARM, State.CLOSED}),
    State.CONFIRMED: frozenset({State.CLOSED}),
    State.FALSE_ALARM: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
}

# States in which a new report may still join the incident. A false alarm stays alone: a
# fresh report at the same spot must be looked at again, not buried under the old verdict.
OPEN_STATES: tuple[str, ...] = (State.NEW, State.VERIFYING, State.CONFIRMED)


class Incident(models.Model):
    # Rows under a legal hold are never purged (defensa/core/retention.py).
    LEGAL_HOLD = "legal_hold"

    reference = models.CharField(_("reference"), max_length=8, unique=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.NEW)
    category = models.CharField(_("what"), max_length=20, choices=Category.choices)
    # Centroid of the reports, weighted by 1/precision^2; None when no report had a location.
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    radius_m = models.FloatField(null=True, blank=True)
    weight = models.FloatField(default=0.0)
    # Grid cell of the centroid for the grouping index: h3 resolution 8 for a precise
    # centroid, resolution 7 for a coarse one (see defensa/incidents/grouping.py).
    cell = models.CharField(max_length=16, blank=True)
    first_observed_at = models.DateTimeField()
    last_observed_at = models.DateTimeField()
    report_count = models.PositiveIntegerField(default=0)
    committee = models.ForeignKey(
        "committees.Committee",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    # Set when a dispatcher merged this incident into another: its reports moved there and
    # this one is closed, kept only so its timeline and old links still lead somewhere.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # While the legal team holds it (cases.LegalHold), nothing of it or its evidence is purged.
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    # Triage: what the reports show, counted as they arrive (defensa/incidents/triage.py).
    # Nothing here is about a sender; each count is of reports, and is rebuilt from them on a
    # merge or split. `triage_rank` orders the console; the dispatcher sees the words.
    independent_count = models.PositiveIntegerField(default=0)
    channels = models.PositiveSmallIntegerField(default=0)
    media_count = models.PositiveIntegerField(default=0)
    vouched_count = models.PositiveIntegerField(default=0)
    precise_count = models.PositiveIntegerField(default=0)
    recycled_count = models.PositiveIntegerField(default=0)
    burst_count = models.PositiveIntegerField(default=0)
    outside_area = models.BooleanField(default=False)
    # Held while its committee is in flood mode: a single uncorroborated web report, shown in
    # its own queue until a dispatcher releases it or another report corroborates it.
    held = models.BooleanField(default=False)
    triage_rank = models.SmallIntegerField(default=0)

    _i = c(INTERNAL, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal")
    _where = c(SENSITIVE, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal", "verifier")
    # An intake operator reads these of the incidents their own typed reports went into.
    _listed = c(INTERNAL, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal", "intake")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("reference", "state", "last_observed_at", "merged_into"), _listed),
        **dict.fromkeys(
            (
                "id",
                "category",
                "weight",
                "first_observed_at",
                "report_count",
                "committee",
                "created_at",
                "updated_at",
                "legal_hold",
                "independent_count",
                "channels",
                "media_count",
                "vouched_count",
                "precise_count",
                "recycled_count",
                "burst_count",
                "outside_area",
                "held",
                "triage_rank",
            ),
            _i,
        ),
        **dict.fromkeys(("lat", "lon", "radius_m", "cell"), _where),
    }

    class Meta:
        ordering = ["-last_observed_at"]
        indexes = [
            # The grouping query: open incidents in a few cells, recent enough.
            # No (state, time) index on purpose: SQLite would pick it for the grouping query
            # and scan the whole time window instead of a few cells.
            models.Index(fields=["cell", "last_observed_at"], name="incident_grid"),
            # The console's order (defensa/dispatch/views.py).
            models.Index(
                fields=["committee", "state", "held", "-triage_rank", "-last_observed_at"],
                name="incident_triage",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def needs_place(self) -> bool:
        """No report gave a usable place (an address or cross streets only, or nothing): a
        dispatcher must place it before verifiers can be sent (docs/rapid-response.md)."""
        return self.lat is None or self.lon is None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def can_become(self, state: str) -> bool:
        return state in TRANSITIONS.get(self.state, frozenset())

    def move_to(self, state: str) -> str:
        """Change state in memory, rejecting an illegal transition (IllegalTransition);
        return the old state."""
        check_move(TRANSITIONS, self.state, state)
        old, self.state = self.state, state
        return old


class FloodMode(models.Model):
    """A committee in flood mode: single uncorroborated web reports of its area are held in a
    queue of their own (docs/rapid-response.md). The row exists while the mode is on; who
    switched it and when is in the audit log."""

    committee = models.OneToOneField(
        "committees.Committee", on_delete=models.CASCADE, related_name="flood_mode"
    )
    since = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "committee", "since"),
        c(INTERNAL, INCIDENT_RETENTION, "dispatcher", "coordinator"),
    )

    def __str__(self) -> str:
        return f"Flood mode since {self.since:%Y-%m-%d %H:%M}"


class TimelineAction(models.TextChoices):
    OPENED = "opened", _("Opened from a report")
    REPORT_ADDED = "report_added", _("Another report joined")
    STATE_CHANGED = "state_changed", _("State changed")
    NOTE = "note", _("Note")
    MERGED = "merged", _("Merged by a dispatcher")
    SPLIT = "split", _("Split by a dispatcher")
    PLACED = "placed", _("Placed by a dispatcher")
    RELEASED = "released", _("Released from the flood queue")


class TimelineEntry(models.Model):
    """One step in an incident's history: who, what, when, and an optional note.

    Each entry has an audit-chain entry that names it and holds the SHA-256 of its note, so
    a changed, removed or inserted timeline entry is found by `verify_timeline()`.
    """

    LEGAL_HOLD = "incident__legal_hold"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=TimelineAction.choices)
    at = models.DateTimeField(default=timezone.now)
    # Ids and state names only (e.g. {"report": 12} or {"from": "new", "to": "confirmed"}).
    detail = models.JSONField(default=dict, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    _t = c(INTERNAL, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "incident", "actor", "action", "at", "detail"), _t),
        "note": c(SENSITIVE, INCIDENT_RETENTION, "dispatcher", "coordinator", "legal"),
    }

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"
