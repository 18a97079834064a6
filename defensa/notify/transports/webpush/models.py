"""A person's push subscriptions (one per device and browser) and which took which delivery.

A subscription is what the browser's PushManager hands us: the push service's endpoint URL
and the device's public key and auth secret. All three are secret: the endpoint is a
capability (with the keys, anyone can write to the device) and it names the device to its
push service (Google, Mozilla, Apple, Microsoft), which can link it to an account. They belong
to the person's account: unsubscribing deletes one, deactivating the account deletes all,
and a push service that answers 404/410 for one gets it deleted too.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import ACCOUNT, INTERNAL, SECRET, FieldClass, c
from defensa.notify.models import DELIVERY_RETENTION, Delivery


def endpoint_digest(endpoint: str) -> str:
    """The uniqueness key of an endpoint (a long URL is a poor unique index)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()


class PushSubscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.TextField()
    # One browser has one endpoint: subscribing it again (even as someone else on a shared
    # phone) replaces the row instead of adding one.
    endpoint_digest = models.CharField(max_length=64, unique=True)
    p256dh = models.CharField(max_length=100)  # the device's P-256 public key, base64url
    auth = models.CharField(max_length=40)  # the device's 16-byte auth secret, base64url
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    _secret = c(SECRET, ACCOUNT)
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "user", "created_at"), c(INTERNAL, ACCOUNT, "self", "admin")),
        **dict.fromkeys(("endpoint", "endpoint_digest", "p256dh", "auth"), _secret),
    }

    class Meta:
        verbose_name = _("device subscription")
        verbose_name_plural = _("device subscriptions")

    def __str__(self) -> str:
        return f"push subscription #{self.pk} of user {self.user_id}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.endpoint_digest = endpoint_digest(self.endpoint)
        super().save(*args, **kwargs)


class PushSent(models.Model):
    """A device's push service accepted this delivery: a retry skips that device.

    One delivery on the push channel goes to every subscription of the person; if one push
    service fails transiently, the retry goes only to the devices without a row here.
    """

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="push_sent")
    subscription = models.ForeignKey(
        PushSubscription, on_delete=models.CASCADE, related_name="sent"
    )
    at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "delivery", "subscription", "at"),
        c(INTERNAL, DELIVERY_RETENTION, "coordinator", "admin"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "subscription"], name="push_sent_once")
        ]

    def __str__(self) -> str:
        return f"delivery #{self.delivery_id} to subscription #{self.subscription_id}"
