"""Writes of broadcasts: write, send (or ask a second coordinator), approve, enqueue a batch,
pause, resume, cancel. Each is atomic and records one audit entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.audit.log import record
from defensa.broadcasts import messages, progress, segments
from defensa.broadcasts.models import STEPS, Broadcast, BroadcastStatus
from defensa.core.transitions import IllegalTransition
from defensa.notify.actions import RECIPIENT_FIELDS, queue_messages
from defensa.notify.models import Priority, Status
from defensa.subscribers import alerts as subscriber_sends

# A paused broadcast's queued deliveries are "due" at this time: the worker's claim query only
# takes rows already due, so they wait without any change to the worker.
PARKED = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
CANCELLED_REASON = gettext_noop("the broadcast was cancelled")


def begin_step(broadcast: Broadcast, step: str) -> Broadcast:
    """The one guard of a coordinator's step (send, approve, pause, resume, cancel): lock the
    row and refuse with IllegalTransition (its code names the refusal, see `STEPS`) unless
    the broadcast's status allows the step now. Inside the caller's transaction."""
    allowed, refused = STEPS[step]
    locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if locked.status not in allowed:
        raise IllegalTransition(f"broadcast {locked.pk}: {step} from {locked.status}", code=refused)
    return locked


@transaction.atomic
def create_broadcast(committee: Any, *, actor: Any, **fields: Any) -> Broadcast:
    """A draft: the text in each language and the segment. Nothing is sent yet."""
    broadcast = Broadcast.objects.create(committee=committee, created_by=actor, **fields)
    record("broadcasts.create", actor=actor, obj=broadcast, committee=committee)
    return broadcast


def _counts(broadcast: Broadcast) -> tuple[int, int]:
    """(people, deliveries at most) of the segment now, by two aggregate queries."""
    people = segments.recipients(broadcast)
    found = people.aggregate(
        n=Count("pk"),
        sms=Count("pk", filter=Q(notify_sms=True) & ~Q(phone="")),
        email=Count("pk", filter=Q(notify_email=True) & ~Q(email="")),
    )
    subscribers = segments.subscribers(broadcast).count()
    return found["n"] + subscribers, found["sms"] + found["email"] + subscribers


def _start(broadcast: Broadcast, people: int, deliveries: int) -> None:
    from defensa.broadcasts.tasks import enqueue_broadcast

    broadcast.status = BroadcastStatus.SENDING
    broadcast.started_at = timezone.now()
    broadcast.heartbeat_at = broadcast.started_at
    broadcast.recipients_total = people
    broadcast.deliveries_total = deliveries
    broadcast.save()
    # The task row is written in this transaction: if the send commits, the enqueuer runs.
    enqueue_broadcast.enqueue(broadcast.pk)


@transaction.atomic
def send_broadcast(broadcast: Broadcast, *, actor: Any) -> Broadcast:
    """Start sending a draft, or, for a segment at or above the approval threshold, ask a
    second coordinator to approve it."""
    broadcast = begin_step(broadcast, "send")
    if not any((t or "").strip() for t in broadcast.texts.values()):
        raise IllegalTransition(f"broadcast {broadcast.pk}: no text", code="empty")
    people, deliveries = _counts(broadcast)
    if people >= settings.BROADCAST_APPROVAL_THRESHOLD:
        broadcast.status = BroadcastStatus.PENDING
        broadcast.recipients_total = people
        broadcast.save(update_fields=["status", "recipients_total"])
        record(
            "broadcasts.request_approval",
            actor=actor,
            obj=broadcast,
            committee=broadcast.committee_id,
            people=people,
        )
        return broadcast
    _start(broadcast, people, deliveries)
    record(
        "broadcasts.send",
        actor=actor,
        obj=broadcast,
        committee=broadcast.committee_id,
        people=people,
    )
    return broadcast


@transaction.atomic
def approve_broadcast(broadcast: Broadcast, *, actor: Any) -> Broadcast:
    """A second coordinator (never the author) approves, and sending starts."""
    broadcast = begin_step(broadcast, "approve")
    if actor is None or actor.pk == broadcast.created_by_id:
        raise IllegalTransition(f"broadcast {broadcast.pk}: approved by its author", code="own")
    people, deliveries = _counts(broadcast)
    broadcast.approved_by = actor
    broadcast.approved_at = timezone.now()
    _start(broadcast, people, deliveries)
    record(
        "broadcasts.approve",
        actor=actor,
        obj=broadcast,
        committee=broadcast.committee_id,
        author=broadcast.created_by_id,
        people=people,
    )
    return broadcast


def enqueue_batch(broadcast_id: int) -> bool:
    """Queue the next batch of people (one transaction); False when there is nothing to do.

    Safe to run twice or after a crash: people are taken in id order after the committed
    cursor, and each delivery's idempotency key is (broadcast, person, channel).
    """
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        if broadcast.status != BroadcastStatus.SENDING or broadcast.enqueue_done:
            return False
        batch = list(
            segments.recipients(broadcast)
            .filter(pk__gt=broadcast.enqueue_cursor)
            .only(*RECIPIENT_FIELDS)[: settings.BROADCAST_BATCH_SIZE]
        )
        broadcast.heartbeat_at = timezone.now()
        if not batch:
            return _enqueue_subscribers(broadcast)
        written = queue_messages(
            batch,
            messages.TEMPLATE,
            {"broadcast": broadcast.pk},
            priority=Priority.BULK,
            idempotency_prefix=broadcast.key_prefix,
        )
        broadcast.enqueue_cursor = batch[-1].pk
        broadcast.enqueued += written
        broadcast.save(update_fields=["enqueue_cursor", "enqueued", "heartbeat_at"])
        record(
            "broadcasts.enqueue_batch",
            obj=broadcast,
            committee=broadcast.committee_id,
            people=len(batch),
            deliveries=written,
        )
        return True


def _enqueue_subscribers(broadcast: Broadcast) -> bool:
    """After the members: the next batch of the alert subscribers a public broadcast also
    reaches (by text, sealed numbers; a member's number is not sent it twice); then done."""
    batch = list(
        segments.subscribers(broadcast).filter(pk__gt=broadcast.subscriber_cursor)[
            : settings.BROADCAST_BATCH_SIZE
        ]
    )
    if batch:
        _numbers, written = subscriber_sends.queue_to(
            batch,
            messages.TEMPLATE,
            {"broadcast": broadcast.pk},
            priority=Priority.BULK,
            idempotency_prefix=broadcast.key_prefix,
            members=segments.recipients(broadcast),
        )
        broadcast.subscriber_cursor = batch[-1].pk
        broadcast.enqueued += written
        broadcast.save(update_fields=["subscriber_cursor", "enqueued", "heartbeat_at"])
        record(
            "broadcasts.enqueue_batch",
            obj=broadcast,
            committee=broadcast.committee_id,
            subscribers=len(batch),
            deliveries=written,
        )
        return True
    broadcast.enqueue_done = True
    broadcast.deliveries_total = progress.deliveries_of(broadcast).count()
    broadcast.save(update_fields=["enqueue_done", "deliveries_total", "heartbeat_at"])
    record(
        "broadcasts.enqueue_done",
        obj=broadcast,
        committee=broadcast.committee_id,
        deliveries=broadcast.deliveries_total,
    )
    return False


@transaction.atomic
def pause_broadcast(broadcast: Broadcast, *, actor: Any) -> Broadcast:
    """Stop sending: queued deliveries wait (the ones already in a worker's hands finish)."""
    broadcast = begin_step(broadcast, "pause")
    broadcast.status = BroadcastStatus.PAUSED
    broadcast.save(update_fields=["status"])
    parked = (
        progress.deliveries_of(broadcast)
        .filter(status=Status.QUEUED)
        .update(next_attempt_at=PARKED)
    )
    record(
        "broadcasts.pause",
        actor=actor,
        obj=broadcast,
        committee=broadcast.committee_id,
        deliveries=parked,
    )
    return broadcast


@transaction.atomic
def resume_broadcast(broadcast: Broadcast, *, actor: Any) -> Broadcast:
    from defensa.broadcasts.tasks import enqueue_broadcast

    broadcast = begin_step(broadcast, "resume")
    broadcast.status = BroadcastStatus.SENDING
    broadcast.heartbeat_at = timezone.now()
    broadcast.save(update_fields=["status", "heartbeat_at"])
    released = (
        progress.deliveries_of(broadcast)
        .filter(status=Status.QUEUED, next_attempt_at__gte=PARKED)
        .update(next_attempt_at=timezone.now())
    )
    if not broadcast.enqueue_done:
        enqueue_broadcast.enqueue(broadcast.pk)
    record(
        "broadcasts.resume",
        actor=actor,
        obj=broadcast,
        committee=broadcast.committee_id,
        deliveries=released,
    )
    return broadcast


@transaction.atomic
def cancel_broadcast(broadcast: Broadcast, *, actor: Any) -> Broadcast:
    """Stop for good: nothing more is queued, and every queued delivery is cancelled."""
    broadcast = begin_step(broadcast, "cancel")
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.cancelled_at = timezone.now()
    broadcast.save(update_fields=["status", "cancelled_at"])
    cancelled = (
        progress.deliveries_of(broadcast)
        .filter(status=Status.QUEUED)
        .update(status=Status.CANCELLED, last_error=CANCELLED_REASON)
    )
    record(
        "broadcasts.cancel",
        actor=actor,
        obj=broadcast,
        committee=broadcast.committee_id,
        deliveries=cancelled,
    )
    return broadcast


def is_stalled(broadcast: Broadcast) -> bool:
    if broadcast.status != BroadcastStatus.SENDING or broadcast.enqueue_done:
        return False
    limit = timezone.now() - dt.timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
    return broadcast.heartbeat_at is None or broadcast.heartbeat_at < limit


@transaction.atomic
def restart_enqueue(broadcast: Broadcast, *, actor: Any = None) -> bool:
    """Enqueue the enqueuer again if it stopped (its process was killed): it resumes at its
    cursor. Returns whether it was restarted."""
    from defensa.broadcasts.tasks import enqueue_broadcast

    broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if not is_stalled(broadcast):
        return False
    broadcast.heartbeat_at = timezone.now()
    broadcast.save(update_fields=["heartbeat_at"])
    enqueue_broadcast.enqueue(broadcast.pk)
    record(
        "broadcasts.restart_enqueue",
        actor=actor,
        obj=broadcast,
        committee=broadcast.committee_id,
        cursor=broadcast.enqueue_cursor,
    )
    return True
