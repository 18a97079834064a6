"""Which subscriptions an area alert reaches, and queueing it to them in one bulk write.

Called by dispatch inside the transaction of a confirmed incident's response (one audit entry
there names it): the subscriptions confirmed for the incident's neighbourhood cell or the
ring around it, as members' area alerts. Each number is unsealed here, and sealed again into
its delivery under the subscription's own key: STOP shreds that key, and the queued alert's
address with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h3
from django.db.models import QuerySet

from defensa.accounts.models import User
from defensa.core import crypto
from defensa.notify.actions import Address, queue_sealed_messages
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
    """How many numbers (not subscriptions: one number may have two ZIP codes nearby)."""
    return near(cell).values("digest").distinct().count()


def queue_alert(
    cell: str,
    template: str,
    context: dict[str, Any],
    *,
    priority: int,
    idempotency_prefix: str,
    reached: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[int, int]:
    """Queue `template` to every subscription near `cell`, each in its language (queue_to).

    Returns (numbers reached, deliveries written now): a repeat writes none.
    """
    return queue_to(
        near(cell),
        template,
        context,
        priority=priority,
        idempotency_prefix=idempotency_prefix,
        reached=reached,
    )


def queue_to(
    subscriptions: Iterable[Subscription] | QuerySet[Subscription],
    template: str,
    context: dict[str, Any],
    *,
    priority: int,
    idempotency_prefix: str,
    reached: set[str] = frozenset(),  # type: ignore[assignment]
    members: QuerySet[User] | None = None,
) -> tuple[int, int]:
    """Queue `template` by text to each subscription's number, in its language, once per
    number: a number in `reached`, or the phone of one of `members` who chose text messages
    (people the same message already goes to), or subscribed for two ZIP codes, gets one.

    The idempotency key of a delivery is "<prefix>:s<subscription id>:sms": queueing again
    adds nothing. Returns (numbers reached, deliveries written now).
    """
    # (subscription id, language, sealed number, its key opened; None if it does not open)
    rows: list[tuple[int, str, bytes | None, crypto.Opened | None]] = []
    if isinstance(subscriptions, QuerySet):
        # As values, and every subscription's own key opened in one pass (crypto.Opened.many):
        # a model instance per subscription and per key was most of the time of an alert to
        # a city's tens of thousands of subscribers.
        found_rows = list(
            subscriptions.values_list(
                "pk",
                "language",
                "phone",
                "data_key_id",
                "data_key__master_key_id",
                "data_key__wrapped",
            )
        )
        opened_keys = crypto.Opened.many(
            (key, master, wrapped) for *_s, key, master, wrapped in found_rows if key is not None
        )
        rows = [
            (pk, language, phone, opened_keys.get(key) if key is not None else None)
            for pk, language, phone, key, _master, _wrapped in found_rows
        ]
    else:
        for subscription in subscriptions:
            try:
                key = subscription.data_key
                opened = crypto.Opened(key) if key is not None else None
            except crypto.CryptoError:
                opened = None  # ended while we read: its key is shredded
            rows.append((subscription.pk, subscription.language, subscription.phone, opened))
    found: list[tuple[str, Address, Any]] = []
    seen: set[str] = set()
    for pk, language, sealed, opened in rows:
        if opened is None or sealed is None:
            continue  # no key (or shredded while we read), no number to read
        try:
            # Opened once: the same key seals the number again in the outbox row.
            phone = opened.decrypt(sealed, aad=crypto.aad_for_row(Subscription, "phone", pk))
        except crypto.CryptoError:
            continue
        number = phone.decode("utf-8")
        if number and number not in reached and number not in seen:
            seen.add(number)
            found.append((f"s{pk}", Address(Channel.SMS, number, language), opened))
    if members is not None and found:
        also = set(
            members.filter(notify_sms=True, phone__in=[a.value for _n, a, _k in found]).values_list(
                "phone", flat=True
            )
        )
        found = [row for row in found if row[1].value not in also]
    queued = queue_sealed_messages(
        found, template, context, priority=priority, idempotency_prefix=idempotency_prefix
    )
    return len(found), queued
