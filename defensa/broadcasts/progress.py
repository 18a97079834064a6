"""How far a broadcast has got: its deliveries counted by status, and the time left."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from defensa.broadcasts.estimate import channel_rate
from defensa.notify.models import Delivery, Status


def deliveries_of(broadcast) -> QuerySet[Delivery]:  # type: ignore[no-untyped-def]
    """Its deliveries: the keys starting with the broadcast's prefix.

    The prefix filter alone decides what belongs (exact under any collation). The range
    beside it only lets the database walk the unique idempotency-key index instead of the
    whole table: keys of one broadcast are zero-padded, so they sort together under byte order
    and under the usual PostgreSQL collations; a collation sorting them otherwise would make
    the range miss rows, which the test on PostgreSQL would show.
    """
    prefix = f"{broadcast.key_prefix}:"
    low = prefix
    high = f"broadcast:{broadcast.pk + 1:012d}:"
    return Delivery.objects.filter(
        idempotency_key__startswith=prefix, idempotency_key__gte=low, idempotency_key__lt=high
    )


@dataclass
class Progress:
    total: int
    sent: int
    failed: int
    cancelled: int
    waiting: int  # queued or sending now
    not_queued: int  # people the enqueuer has not reached yet (estimated deliveries)
    eta_seconds: float | None

    @property
    def remaining(self) -> int:
        return self.waiting + self.not_queued

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.cancelled

    @property
    def finished(self) -> bool:
        return self.remaining == 0


def progress(broadcast) -> Progress:  # type: ignore[no-untyped-def]
    rows = (
        deliveries_of(broadcast).values_list("channel", "status").annotate(n=Count("id")).order_by()
    )
    by_status: dict[str, int] = {}
    waiting_by_channel: dict[str, int] = {}
    for channel, status, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        if status in (Status.QUEUED, Status.SENDING):
            waiting_by_channel[channel] = waiting_by_channel.get(channel, 0) + n
    written = sum(by_status.values())
    stopped = broadcast.status == "cancelled" or broadcast.enqueue_done
    not_queued = 0 if stopped else max(0, broadcast.deliveries_total - written)
    waiting = by_status.get(Status.QUEUED, 0) + by_status.get(Status.SENDING, 0)
    # Not-yet-queued deliveries split over channels like the queued ones.
    scale = (waiting + not_queued) / waiting if waiting else 1.0
    eta: float | None = 0.0
    for channel, n in waiting_by_channel.items():
        configured, rate = channel_rate(channel)
        if not configured:
            continue
        if rate is None:
            eta = None
            break
        eta = max(eta, n * scale * rate.interval)
    return Progress(
        total=written + not_queued,
        sent=by_status.get(Status.SENT, 0),
        failed=by_status.get(Status.FAILED, 0),
        cancelled=by_status.get(Status.CANCELLED, 0),
        waiting=waiting,
        not_queued=not_queued,
        eta_seconds=eta,
    )
