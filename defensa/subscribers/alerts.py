"""Which subscriptions an area alert reaches, and queueing it to them in one bulk write.

Called by dispatch inside the transaction of a confirmed incident's response (one audit entry
there names it): the subscriptions confirmed for the incident's neighbourhood cell or the
ring around it, as members' area alerts. Each number is unsealed here, and sealed again into
its delivery under the subscription's own key: STOP shreds that key, and the queued alert's
address with it.
"""

from __future__ import annotations

from typing import Any

import h3
from django.db.models import QuerySet

from defensa.core import crypto
from defensa.notify.actions import Address, queue_address_messages
from defensa.notify.models import Channel
from defensa.subscribers.models import Subscription


def near(cell: str) -> QuerySet[Subscription]:
    """Confirmed subscriptions in `cell` or the cells around it ("" reaches nobody)."""
    if not cell:
        return Subscription.objects.none()
    return Subscription.objects.filter(
        cell__in=list(h3.grid_disk(cell, 1)), confirmed_at__isnull=False
    )


def count_near(cell: str) -> int:
    return near(cell).count()


def queue_alert(
    cell: str,
    template: str,
    context: dict[str, Any],
    *,
    priority: int,
    idempotency_prefix: str,
    reached: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[int, int]:
    """Queue `template` to every subscription near `cell`, each in its language, once per
    number: a number in `reached` (members' phones the same alert already goes to) or
    subscribed for two ZIP codes near the place gets one message.

    Returns (numbers reached, deliveries written now): a repeat writes none.
    """
    addresses: list[tuple[str, Address, Any]] = []
    seen: set[str] = set()
    for subscription in (
        near(cell)
        .select_related("data_key")
        .only("pk", "language", "phone", "data_key")
        .iterator(chunk_size=2000)
    ):
        try:
            phone = crypto.unseal(subscription, "phone")
        except crypto.CryptoError:
            continue  # ended while we read: its key is shredded
        if phone and phone not in reached and phone not in seen:
            seen.add(phone)
            addresses.append(
                (
                    str(subscription.pk),
                    Address(Channel.SMS, phone, subscription.language),
                    subscription.data_key,
                )
            )
    queued = queue_address_messages(
        addresses, template, context, priority=priority, idempotency_prefix=idempotency_prefix
    )
    return len(addresses), queued
