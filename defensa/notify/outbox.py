"""The outbox store: claim due deliveries in batches, highest priority first, give them back,
and record every attempt in batches.

At-least-once: deliveries are claimed by setting them to 'sending' with a lease
(next_attempt_at = the lease's end) and committing. A worker killed mid-send leaves them
'sending'; when the lease runs out any worker claims them again (recording the lost attempt as
'abandoned'). A message can therefore go out twice only if a worker dies between the provider
accepting it and the commit of its result (results are committed in small batches, every
~0.1 s, by the scheduler in `worker.py`); transports pass the idempotency key to providers
that deduplicate on it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.audit.log import record
from defensa.notify.models import AttemptStatus, Delivery, DeliveryAttempt, Status
from defensa.notify.transports import SendResult, TransportError

# The worker's logger: operators filter on one name for the whole delivery engine.
log = logging.getLogger("defensa.notify.worker")
_random = secrets.SystemRandom()


@dataclass
class Claimed:
    delivery: Delivery
    due: datetime  # its place in line, restored if it is given back unsent


@dataclass
class Done:
    """The outcome of one claimed delivery, waiting to be recorded."""

    delivery: Delivery
    transport: str
    started: datetime
    duration_ms: int = 0
    result: SendResult | None = None
    error: TransportError | None = None
    cancelled: str = ""


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before retry number `attempt`: exponential, with jitter, at least Retry-After."""
    ceiling = min(
        float(settings.NOTIFY_RETRY_MAX_SECONDS),
        settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    # "Equal jitter": never less than half the step, so retries spread out but still back off.
    delay = ceiling / 2 + _random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _due(exclude_channels: Iterable[str] = (), above_priority: int | None = None):  # type: ignore[no-untyped-def]
    due = Delivery.objects.filter(
        status__in=[Status.QUEUED, Status.SENDING], next_attempt_at__lte=timezone.now()
    ).exclude(channel__in=list(exclude_channels))
    if above_priority is not None:
        due = due.filter(priority__gt=above_priority)
    return due


def _sqlite_due_ids(
    limit: int, exclude_channels: list[str], above_priority: int | None
) -> list[int]:
    """The claim order's first ids, on SQLite, through the partial index `notify_delivery_due`.

    SQLite cannot prove that a *parameterised* `status IN (?, ?)` matches the partial index's
    condition, so through the ORM it used the status index and sorted every waiting delivery:
    ~100 ms per claim with 100k queued, 300-460 ms on a loaded machine, long enough to starve
    the provider's pipe. Literal statuses and INDEXED BY make it a walk of the first rows.
    """
    now = Delivery._meta.get_field("next_attempt_at").get_db_prep_value(timezone.now(), connection)
    statuses = ", ".join(f"'{status.value}'" for status in (Status.QUEUED, Status.SENDING))
    where = [f"status IN ({statuses})", "next_attempt_at <= %s"]
    params: list[object] = [now]
    if exclude_channels:
        where.append(f"channel NOT IN ({', '.join(['%s'] * len(exclude_channels))})")
        params.extend(exclude_channels)
    if above_priority is not None:
        where.append("priority > %s")
        params.append(above_priority)
    params.append(limit)
    table = Delivery._meta.db_table
    conditions = " AND ".join(where)
    # Constant names and statuses; every value is a parameter.
    sql = f"SELECT id FROM {table} INDEXED BY notify_delivery_due WHERE {conditions} "  # noqa: S608
    sql += "ORDER BY priority DESC, next_attempt_at, id LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _due_rows(
    limit: int, exclude_channels: list[str], above_priority: int | None
) -> list[Delivery]:
    """The most urgent due deliveries, locked for this transaction, recipients loaded (and the
    data keys of addresses kept sealed: an area alert's thousands of subscribers would cost
    a query each)."""
    if connection.vendor == "sqlite":
        # One writer at a time (IMMEDIATE transactions): no row locks to take.
        ids = _sqlite_due_ids(limit, exclude_channels, above_priority)
        found = (
            Delivery.objects.filter(pk__in=ids).select_related("recipient", "data_key").in_bulk()
        )
        return [found[pk] for pk in ids if pk in found]
    return list(
        _due(exclude_channels, above_priority)
        .order_by("-priority", "next_attempt_at", "id")
        .select_related("recipient", "data_key")
        # Workers skip each other's rows.
        .select_for_update(skip_locked=True, of=("self",))[:limit]
    )


def claim_batch(
    limit: int, exclude_channels: Iterable[str] = (), above_priority: int | None = None
) -> list[Claimed]:
    """Take up to `limit` of the most urgent due deliveries (or expired leases) in one
    transaction: the same order as one-by-one claims, a fraction of the writes."""
    excluded = list(exclude_channels)
    # A plain read first: on SQLite every atomic block takes the write lock, and an idle
    # worker polling with writes would make web requests wait.
    if connection.vendor == "sqlite":
        if not _sqlite_due_ids(1, excluded, above_priority):
            return []
    elif not _due(excluded, above_priority).exists():
        return []
    claimed: list[Claimed] = []
    with transaction.atomic():
        now = timezone.now()
        rows = _due_rows(limit, excluded, above_priority)
        lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
        abandoned: list[DeliveryAttempt] = []
        for delivery in rows:
            if delivery.status == Status.SENDING:
                # Its worker died mid-send (the lease ran out): say so, then try again.
                abandoned.append(
                    DeliveryAttempt(
                        delivery=delivery,
                        number=delivery.attempts,
                        transport=delivery.transport,
                        status=AttemptStatus.ABANDONED,
                        error=gettext_noop("the worker stopped mid-send; the outcome is unknown"),
                        started_at=now,
                    )
                )
                if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                    # A message that kills every worker that touches it must not kill them all.
                    _fail(
                        delivery, gettext_noop("a worker stopped while sending it, too many times")
                    )
                    continue
            claimed.append(Claimed(delivery, delivery.next_attempt_at))
        DeliveryAttempt.objects.bulk_create(abandoned)
        if claimed:
            Delivery.objects.filter(pk__in=[c.delivery.pk for c in claimed]).update(
                status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease
            )
            for c in claimed:
                c.delivery.status = Status.SENDING
                c.delivery.attempts += 1
                c.delivery.next_attempt_at = lease
    return claimed


def claim(exclude_channels: list[str]) -> Claimed | None:
    """Take the single most urgent due delivery (the batch claim of one)."""
    found = claim_batch(1, exclude_channels)
    return found[0] if found else None


def _fail(delivery: Delivery, reason: str) -> None:
    delivery.status = Status.FAILED
    delivery.last_error = reason[:300]
    delivery.save(update_fields=["status", "last_error"])
    # A person must see it: it is listed first on the deliveries page.
    record("notify.delivery_failed", obj=delivery, channel=delivery.channel)


def release_many(claimed: Iterable[Claimed]) -> None:
    """Give claimed deliveries back untouched, each in its old place in line."""
    with transaction.atomic():
        for c in claimed:
            Delivery.objects.filter(
                pk=c.delivery.pk, status=Status.SENDING, attempts=c.delivery.attempts
            ).update(
                status=Status.QUEUED,
                attempts=c.delivery.attempts - 1,
                next_attempt_at=c.due,
            )


def release(claimed: Claimed) -> None:
    release_many([claimed])


def finish_many(dones: list[Done]) -> None:
    """Record the attempts and move each delivery on (sent, retry later, failed, cancelled),
    all in one transaction."""
    with transaction.atomic():
        current = {
            d.pk: d
            for d in Delivery.objects.select_for_update().filter(
                pk__in=[done.delivery.pk for done in dones]
            )
        }
        attempts: list[DeliveryAttempt] = []
        for done in dones:
            row = current.get(done.delivery.pk)
            if row is None:
                continue  # purged meanwhile
            attempt = _apply(row, done)
            if attempt is not None:
                attempts.append(attempt)
        DeliveryAttempt.objects.bulk_create(attempts)


def _apply(current: Delivery, done: Done) -> DeliveryAttempt | None:
    delivery = done.delivery
    ours = current.status == Status.SENDING and current.attempts == delivery.attempts
    attempt = None
    if done.cancelled:
        current.status = Status.CANCELLED
        current.last_error = done.cancelled[:300]
    elif done.error is None:
        assert done.result is not None  # noqa: S101 (sent or failed: one of the two)
        attempt = DeliveryAttempt(
            delivery=current,
            number=delivery.attempts,
            transport=done.transport,
            status=AttemptStatus.SENT,
            provider_message_id=done.result.provider_message_id[:120],
            started_at=done.started,
            duration_ms=done.duration_ms,
        )
        # Even if our lease ran out meanwhile, the message did go: say so.
        current.status = Status.SENT
        current.sent_at = timezone.now()
        current.provider_message_id = done.result.provider_message_id[:120]
        current.last_error = ""
        ours = True
    else:
        error = done.error
        final = error.permanent or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS
        attempt = DeliveryAttempt(
            delivery=current,
            number=delivery.attempts,
            transport=done.transport,
            status=AttemptStatus.PERMANENT if error.permanent else AttemptStatus.TRANSIENT,
            error=error.message[:300],
            started_at=done.started,
            duration_ms=done.duration_ms,
        )
        if ours:
            current.last_error = error.message[:300]
            if final:
                current.transport = done.transport
                _fail(current, error.message)
            else:
                current.status = Status.QUEUED
                current.next_attempt_at = timezone.now() + timedelta(
                    seconds=backoff(delivery.attempts, error.retry_after)
                )
    if ours:
        current.transport = done.transport
        current.save(
            update_fields=[
                "status",
                "last_error",
                "sent_at",
                "provider_message_id",
                "next_attempt_at",
                "transport",
            ]
        )
    else:
        log.warning("delivery #%s was taken over by another worker", delivery.pk)
    return attempt


def finish(
    delivery: Delivery,
    *,
    transport: str,
    started: datetime,
    duration_ms: int,
    result: SendResult | None = None,
    error: TransportError | None = None,
    cancelled: str = "",
) -> Delivery:
    """Record one attempt (the batch form of one)."""
    finish_many([Done(delivery, transport, started, duration_ms, result, error, cancelled)])
    return Delivery.objects.get(pk=delivery.pk)
