"""The outbox: one Delivery per message per channel, every attempt recorded, rate buckets.

What is stored: who (a user id, or an address for people without an account), which channel,
which template and the ids it renders from. The text itself is rendered at send time and never
stored, so a seized database shows that a message went out, not what it said.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import mask_phone
from defensa.core.classification import (
    INTERNAL,
    SECRET,
    SENSITIVE,
    SYSTEM,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# Deliveries and their attempts are operational records: long enough to see and fix a failure,
# short enough that the outbox is not a history of who was alerted about what.
DELIVERY_RETENTION = timedelta(days=30)
# An opt-out lasts until the address sends START; carriers expect it honoured for years, and
# it is only a keyed hash. Five years, renewed by every new STOP.
OPTOUT_RETENTION = timedelta(days=5 * 365)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    SIGNAL = "signal", _("Signal")
    PUSH = "push", _("Device notification")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.IntegerChoices):
    # Higher goes first. Dispatch and verification alerts are URGENT; broadcasts are BULK.
    # A neighbourhood's area alert (thousands at once) is URGENT_MANY: ahead of everything
    # but the few urgent messages of the people acting on the incident (an offer to verify,
    # the legal team on call), which must never wait behind it.
    BULK = 10, _("Bulk")
    NORMAL = 50, _("Normal")
    URGENT_MANY = 80, _("Urgent, to a whole area")
    URGENT = 90, _("Urgent")


def mask_address(channel: str, value: str) -> str:
    """What the deliveries page shows of an address: enough to tell two apart, no more."""
    if channel in (Channel.SMS, Channel.SIGNAL):
        return mask_phone(value) or "•••"
    local, _at, domain = value.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


class Delivery(models.Model):
    """One message to one person (or address) on one channel."""

    # purge_expired never deletes a message that may still be sent.
    RETENTION_KEEP = models.Q(status__in=["queued", "sending"])

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # Only for recipients without an account (a reporter, a family contact): the address is
    # sealed under this delivery's own data key (defensa/core/crypto), and only a masked hint
    # is kept in the clear for the deliveries page. A user's address is read at send time, so a
    # changed phone number or email is used and no copy of it sits in the outbox.
    address_hint = models.CharField(_("address"), max_length=254, blank=True)
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sealed_address = EncryptedField(key_field="data_key")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    template = models.CharField(_("message"), max_length=80)
    # Ids and short machine words only (checked in actions.queue_message), never content.
    context = models.JSONField(default=dict, blank=True)
    language = models.CharField(_("language"), max_length=LANGUAGE_CODE_LENGTH)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When queued: due time. When sending: the end of the worker's lease; a worker killed
    # mid-send leaves the row 'sending' and another worker takes it once this has passed.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    transport = models.CharField(_("transport"), max_length=40, blank=True)
    last_error = models.CharField(_("reason"), max_length=300, blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    _ops = c(INTERNAL, DELIVERY_RETENTION, "coordinator", "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "recipient",
                "channel",
                "template",
                "context",
                "language",
                "priority",
                "status",
                "attempts",
                "next_attempt_at",
                "transport",
                "provider_message_id",
                "created_at",
                "sent_at",
            ),
            _ops,
        ),
        **dict.fromkeys(("sealed_address", "data_key"), c(SENSITIVE, DELIVERY_RETENTION)),
        "address_hint": c(INTERNAL, DELIVERY_RETENTION, "coordinator", "admin"),
        # Provider replies can quote the address ("550 <x@y> unknown").
        "last_error": c(SENSITIVE, DELIVERY_RETENTION, "coordinator", "admin"),
        # Derived from the causing object's id; not secret, but never shown.
        "idempotency_key": c(INTERNAL, DELIVERY_RETENTION),
    }

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            # The worker's claim query: due rows, highest priority first.
            models.Index(
                fields=["-priority", "next_attempt_at", "id"],
                name="notify_delivery_due",
                condition=Q(status__in=["queued", "sending"]),
            ),
            models.Index(fields=["status", "-created_at"], name="notify_delivery_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(address_hint=""),
                name="notify_delivery_has_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} via {self.channel} #{self.pk}"

    @property
    def label(self) -> str:
        """What kind of message it was, for people (registered by the app that sends it)."""
        from defensa.notify.messages import label_for

        return str(label_for(self.template))

    @property
    def recipient_label(self) -> str:
        """Who it is for, as shown on the deliveries page: a name, or a masked address."""
        if self.recipient is not None:
            return str(self.recipient)
        return self.address_hint

    def resolve_address(self) -> str:
        """The address to send to now: the person's current one, or the stored one."""
        if self.recipient is None:
            from defensa.core import crypto

            try:
                return crypto.unseal(self, "sealed_address") or ""
            except crypto.KeyShredded:
                return ""
        if self.channel == Channel.EMAIL:
            return self.recipient.email
        if self.channel == Channel.SMS:
            return self.recipient.phone
        if self.channel == Channel.PUSH:
            # Every device the person subscribed (the webpush transport looks them up).
            return f"devices of user {self.recipient_id}"
        if self.channel == Channel.SIGNAL:
            return self.recipient.phone  # Signal reaches people by their phone number
        return ""


class AttemptStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    TRANSIENT = "transient", _("Failed, will retry")
    PERMANENT = "permanent", _("Failed for good")
    ABANDONED = "abandoned", _("Worker stopped mid-send")


class DeliveryAttempt(models.Model):
    """One try at sending a Delivery: outcome, provider id, error and how long it took."""

    RETENTION_KEEP = models.Q(delivery__status__in=["queued", "sending"])

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    transport = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices)
    provider_message_id = models.CharField(max_length=120, blank=True)
    error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)

    _ops = c(INTERNAL, DELIVERY_RETENTION, "coordinator", "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "delivery",
                "number",
                "transport",
                "status",
                "provider_message_id",
                "started_at",
                "duration_ms",
            ),
            _ops,
        ),
        "error": c(SENSITIVE, DELIVERY_RETENTION, "coordinator", "admin"),
    }

    class Meta:
        ordering = ["delivery_id", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of #{self.delivery_id}: {self.status}"


class RateBucket(models.Model):
    """The next free send slot of one provider account or number, shared by every worker."""

    key = models.CharField(max_length=120, primary_key=True)
    # Unix seconds (float): sub-millisecond spacing at 100+/s, compared across processes.
    next_free_at = models.FloatField(default=0.0)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("key", "next_free_at"), c(INTERNAL, SYSTEM, "admin")
    )

    def __str__(self) -> str:
        return self.key


class OptOut(models.Model):
    """An address that asked not to be messaged on a channel (e.g. SMS STOP).

    Only a keyed hash of the address is kept: the table proves an opt-out without being a
    list of the phone numbers that once talked to the network.
    """

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": c(INTERNAL, OPTOUT_RETENTION, "admin"),
        "channel": c(INTERNAL, OPTOUT_RETENTION, "admin"),
        "address_digest": c(SECRET, OPTOUT_RETENTION),
        "created_at": c(INTERNAL, OPTOUT_RETENTION, "admin"),
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address_digest"], name="one_optout")
        ]

    def __str__(self) -> str:
        return f"opt-out ({self.channel})"
