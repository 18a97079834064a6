"""Broadcasts: one message, written in each language, to a segment of the network.

The text is kept here (the coordinator wrote it, and it is what members of the segment are
meant to read); each person's Delivery stores only the broadcast's id and is rendered from
this row, in the person's language, at send time.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, FieldClass, c
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# Long enough to look back at what was sent and who approved it; the deliveries themselves
# are purged after 30 days (notify).
BROADCAST_RETENTION = dt.timedelta(days=365)


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Waiting for a second coordinator")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")


# Which status each coordinator's step may start from, and the refusal's code otherwise (the
# view turns it into a message). The one place these rules are written: every step goes
# through `broadcasts.actions.begin_step`, which checks them under a row lock.
LIVE = frozenset(
    {
        BroadcastStatus.DRAFT,
        BroadcastStatus.PENDING,
        BroadcastStatus.SENDING,
        BroadcastStatus.PAUSED,
    }
)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "send": (frozenset({BroadcastStatus.DRAFT}), "not_draft"),
    "approve": (frozenset({BroadcastStatus.PENDING}), "not_pending"),
    "pause": (frozenset({BroadcastStatus.SENDING}), "not_sending"),
    "resume": (frozenset({BroadcastStatus.PAUSED}), "not_paused"),
    "cancel": (LIVE, "cancelled"),
}


class Broadcast(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="broadcasts"
    )
    # The segment. Empty filters mean "everyone in the committee".
    include_subcommittees = models.BooleanField(_("include its local committees"), default=True)
    zip_codes = models.JSONField(_("ZIP codes"), default=list, blank=True)
    h3_cells = models.JSONField(_("h3 cells"), default=list, blank=True)
    skill = models.CharField(_("skill"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=LANGUAGE_CODE_LENGTH, blank=True)
    # A public announcement may also go, by text, to the alert subscribers (people without an
    # account) of the committee's area: docs/subscribers.md.
    to_subscribers = models.BooleanField(_("also to alert subscribers"), default=False)
    # {"en": "...", "es": "..."}: one text per enabled language.
    texts = models.JSONField(_("message"), default=dict)
    # Filters registered by apps above (segments.EXTRA_FILTERS), by name: {"event": 12}.
    extra = models.JSONField(_("other filters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=BroadcastStatus.choices, default=BroadcastStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Fixed when sending starts: people and deliveries the segment held then.
    recipients_total = models.PositiveIntegerField(default=0)
    deliveries_total = models.PositiveIntegerField(default=0)
    # The background enqueuer's place: people are queued in id order, a batch per transaction.
    enqueue_cursor = models.BigIntegerField(default=0)
    # Then the subscribers', in subscription id order.
    subscriber_cursor = models.BigIntegerField(default=0)
    enqueued = models.PositiveIntegerField(default=0)
    enqueue_done = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    _b = c(INTERNAL, BROADCAST_RETENTION, "coordinator", "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "committee",
            "include_subcommittees",
            "zip_codes",
            "h3_cells",
            "skill",
            "language",
            "to_subscribers",
            "texts",
            "extra",
            "status",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "started_at",
            "cancelled_at",
            "recipients_total",
            "deliveries_total",
            "enqueue_cursor",
            "subscriber_cursor",
            "enqueued",
            "enqueue_done",
            "heartbeat_at",
        ),
        _b,
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Broadcast #{self.pk}"

    @property
    def key_prefix(self) -> str:
        """Idempotency prefix of its deliveries; zero-padded so keys of one broadcast sort
        together under any collation (see progress.deliveries_of)."""
        return f"broadcast:{self.pk:012d}"

    @property
    def is_active(self) -> bool:
        return self.status in (BroadcastStatus.SENDING, BroadcastStatus.PAUSED)
