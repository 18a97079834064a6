"""Phone and text trees: a committee's captains, each with about ten people, and cascades.

A Tree belongs to a committee (a workplace tree will be one more nullable foreign key beside
`committee`, and a Leaf one more for a contact without an account beside `person`). A Branch
is one captain's group, in an order: when a captain is escalated, their people go to the next
captain in that order who has confirmed, else to the tree's coordinators.

A Cascade is one run of the tree: the coordinator's message goes to every captain, each
captain reaches their people (a call they log, or texts the engine sends on their behalf),
each person confirms (a text reply or a one-tap link). A drill is a cascade marked as
practice. Per person a Reach row says who handles them now and when they confirmed; per
captain a Duty row says when they confirmed their group and whether they were escalated.
What stays after the rows go is the cascade's figures (times to 50%, 90%, 100%).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import COMMITTEE, INTERNAL, SECRET, FieldClass, c

# The tree is the committee's structure while it exists (it ends with the committee, and a
# place in it with the account); a cascade's per-person rows are kept long enough to review a
# drill, then only the cascade and its figures remain.
CASCADE_RETENTION = dt.timedelta(days=365 * 2)
REACH_RETENTION = dt.timedelta(days=90)
MESSAGE_MAX = 300  # one or two text messages with the framing the template adds


class Tree(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="trees"
    )
    name = models.CharField(_("name"), max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    _c = c(INTERNAL, COMMITTEE, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "committee", "name", "created_by", "created_at"), _c
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"Tree #{self.pk}"


class Branch(models.Model):
    """One captain's group. The captain is chosen by a coordinator, never by themselves."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="branches")
    # The account's deletion deletes the branch; its people fall back to no branch and the
    # tree page asks for a new captain (a person-tied link dies with the account).
    captain = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="captain_of"
    )
    position = models.PositiveIntegerField(default=0)

    _c = c(INTERNAL, COMMITTEE, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "tree", "captain", "position"), _c
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tree", "captain"], name="one_branch_per_captain")
        ]

    def __str__(self) -> str:
        return f"Branch #{self.pk}"


class Leaf(models.Model):
    """One person in a tree, in one captain's group (or none, until someone places them)."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="leaves")
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="leaves"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tree_leaves"
    )

    _c = c(INTERNAL, COMMITTEE, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "tree", "branch", "person"), _c
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tree", "person"], name="one_leaf_per_person")
        ]

    def __str__(self) -> str:
        return f"Leaf #{self.pk}"


class Cascade(models.Model):
    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="cascades")
    is_drill = models.BooleanField(_("this is a drill (practice)"), default=False)
    message = models.CharField(_("message"), max_length=MESSAGE_MAX)
    escalate_minutes = models.PositiveIntegerField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Kept when the cascade ends: {"people": n, "confirmed": n, "t50_s": s|None, "t90_s": ...,
    # "t100_s": ..., "never": n, "escalations": n}. Outlives the per-person rows.
    figures = models.JSONField(default=dict, blank=True)

    _c = c(INTERNAL, CASCADE_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "tree",
            "is_drill",
            "message",
            "escalate_minutes",
            "started_by",
            "started_at",
            "ended_at",
            "figures",
        ),
        _c,
    )
    RETENTION_ANCHOR = "started_at"

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"Cascade #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class Duty(models.Model):
    """A captain's part in one cascade: their group, confirmed or escalated."""

    cascade = models.ForeignKey(Cascade, on_delete=models.CASCADE, related_name="duties")
    captain = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tree_duties"
    )
    position = models.PositiveIntegerField(default=0)
    texted_at = models.DateTimeField(null=True, blank=True)  # asked the engine to text them
    reported_at = models.DateTimeField(null=True, blank=True)  # "I have reached my group"
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    _c = c(INTERNAL, REACH_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "cascade",
            "captain",
            "position",
            "texted_at",
            "reported_at",
            "escalated_at",
            "created_at",
        ),
        _c,
    )
    RETENTION_ANCHOR = "created_at"

    class Meta:
        ordering = ["position", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["cascade", "captain"], name="one_duty_per_captain")
        ]

    def __str__(self) -> str:
        return f"Duty #{self.pk}"


class Via(models.TextChoices):
    SMS = "sms", _("Text reply")
    LINK = "link", _("Link")
    CALL = "call", _("Call logged by a captain")


class Reach(models.Model):
    """One person in one cascade: who handles them now, and when they confirmed."""

    cascade = models.ForeignKey(Cascade, on_delete=models.CASCADE, related_name="reaches")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tree_reaches"
    )
    # The duty whose captain reaches this person now; None: a captain themselves, or handed
    # to the coordinators after the last captain was escalated.
    duty = models.ForeignKey(
        Duty, null=True, blank=True, on_delete=models.SET_NULL, related_name="reaches"
    )
    is_captain = models.BooleanField(default=False)
    handed_to_coordinators = models.BooleanField(default=False)
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    texted_at = models.DateTimeField(null=True, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=5, choices=Via.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    _c = c(INTERNAL, REACH_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "cascade",
                "person",
                "duty",
                "is_captain",
                "handed_to_coordinators",
                "texted_at",
                "called_at",
                "confirmed_at",
                "via",
                "created_at",
            ),
            _c,
        ),
        **dict.fromkeys(("nonce", "token_hash"), c(SECRET, REACH_RETENTION)),
    }
    RETENTION_ANCHOR = "created_at"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["cascade", "person"], name="one_reach_per_person")
        ]
        indexes: ClassVar = [models.Index(fields=["person", "confirmed_at"])]

    def __str__(self) -> str:
        return f"Reach #{self.pk}"
