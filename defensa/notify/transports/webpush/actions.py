"""Writes of device notifications: subscribe a device, unsubscribe it, turn all off, test."""

from __future__ import annotations

import secrets

from django.db import transaction

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.notify.actions import queue_message
from defensa.notify.models import Channel, Delivery, Priority
from defensa.notify.transports.webpush.models import PushSubscription, endpoint_digest

# Phones get replaced and browsers reinstalled; old subscriptions of a person beyond this
# many are dropped, oldest first (a dead one would also go at its first 404/410).
MAX_DEVICES = 10


class EndpointTaken(Exception):
    """The endpoint is another account's device: it is refused, never moved."""


@transaction.atomic
def add_subscription(
    user: User, *, endpoint: str, p256dh: str, auth: str, actor: User
) -> PushSubscription:
    """Keep a device's subscription (validated by the caller) and turn device notifications on.

    One browser has one endpoint. If another account has it, it is refused (EndpointTaken):
    whoever learned an endpoint could otherwise take a person's alerts off their phone. On a
    shared phone, the first person turns device notifications off there, then the next one
    turns them on.
    """
    sub = (
        PushSubscription.objects.select_for_update()
        .filter(endpoint_digest=endpoint_digest(endpoint))
        .first()
    )
    if sub is not None and sub.user_id != user.pk:
        raise EndpointTaken
    if sub is None:
        sub = PushSubscription(endpoint=endpoint)
    sub.user = user
    sub.p256dh = p256dh
    sub.auth = auth
    sub.save()
    extra = PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")[MAX_DEVICES:]
    dropped = PushSubscription.objects.filter(pk__in=[s.pk for s in extra]).delete()[0]
    if not user.notify_push:
        user.notify_push = True
        user.save(update_fields=["notify_push"])
    record("webpush.subscribed", actor=actor, obj=user, subscription=sub.pk, dropped=dropped)
    return sub


@transaction.atomic
def remove_subscription(user: User, *, endpoint: str, actor: User) -> bool:
    """Forget one device of this person (the browser unsubscribed). Returns whether it existed."""
    deleted, _ = PushSubscription.objects.filter(
        user=user, endpoint_digest=endpoint_digest(endpoint)
    ).delete()
    record("webpush.unsubscribed", actor=actor, obj=user, removed=bool(deleted))
    return bool(deleted)


@transaction.atomic
def turn_off_push(user: User, *, actor: User) -> int:
    """No more device notifications: forget every device and switch the channel off."""
    deleted, _ = PushSubscription.objects.filter(user=user).delete()
    if user.notify_push:
        user.notify_push = False
        user.save(update_fields=["notify_push"])
    record("webpush.turned_off", actor=actor, obj=user, removed=deleted)
    return deleted


@transaction.atomic
def remove_gone_subscription(subscription: PushSubscription) -> None:
    """The push service says the subscription no longer exists (404/410): forget it."""
    user_id, pk = subscription.user_id, subscription.pk
    PushSubscription.objects.filter(pk=pk).delete()
    record("webpush.subscription_gone", obj=None, user=user_id, subscription=pk)


@transaction.atomic
def send_test_notification(user: User, *, actor: User) -> list[Delivery]:
    """Queue a test notification to every device of the person, now."""
    deliveries = queue_message(
        user,
        "test_message",
        {},
        priority=Priority.URGENT,
        idempotency_key=f"pushtest:{user.pk}:{secrets.token_hex(8)}",
        channels=[Channel.PUSH],
        actor=actor,
        audit=False,
    )
    record("webpush.test_sent", actor=actor, obj=user, deliveries=[d.pk for d in deliveries])
    return deliveries
