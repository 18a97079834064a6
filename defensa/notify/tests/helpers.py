"""Small helpers shared by the notify tests."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from defensa.notify.actions import queue_message
from defensa.notify.models import Delivery, Priority
from defensa.notify.worker import Worker


def queue(user, key: str, *, template: str = "test_message", priority: int = Priority.NORMAL, **kw):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return queue_message(user, template, {}, priority=priority, idempotency_key=key, **kw)


def run_worker(threads: int = 1) -> None:
    Worker(threads=threads, once=True, poll=0.01).run()


def make_due(deliveries: Iterable[Delivery] | None = None) -> None:
    """Skip the backoff wait: everything queued is due now (a test's clock)."""
    qs = (
        Delivery.objects.all()
        if deliveries is None
        else Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    )
    qs.filter(status="queued").update(next_attempt_at=timezone.now())
