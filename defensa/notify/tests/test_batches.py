"""Batched claims, chunked rate slots and the in-memory line of the worker."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from defensa.core import crypto
from defensa.notify import ratelimit
from defensa.notify.models import Delivery, Priority, Status
from defensa.notify.outbox import claim_batch
from defensa.notify.tests.procs import wait_until
from defensa.notify.transports import Rate
from defensa.notify.worker import Worker


def _sealed(deliveries: list[Delivery], addresses: list[str]) -> None:
    """Addresses of people without an account are kept only sealed (as queue_message does)."""
    key = crypto.new_key("notify.delivery")
    for delivery, address in zip(deliveries, addresses, strict=True):
        delivery.data_key = key
        crypto.seal(delivery, "sealed_address", address)
    Delivery.objects.bulk_update(deliveries, ["data_key", "sealed_address"], batch_size=1000)


def _bulk(count: int, due) -> None:  # type: ignore[no-untyped-def]
    addresses = [f"bulk{n}@example.org" for n in range(count)]
    rows = Delivery.objects.bulk_create(
        [
            Delivery(
                address_hint="b•••@example.org",
                channel="email",
                template="test_message",
                language="en",
                priority=Priority.BULK,
                idempotency_key=f"bulk:{n}:email",
                next_attempt_at=due,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    _sealed(rows, addresses)


def _urgent() -> Delivery:
    alert = Delivery.objects.create(
        address_hint="a•••@example.org",
        channel="email",
        template="test_message",
        language="en",
        priority=Priority.URGENT,
        idempotency_key="alert:1:email",
    )
    _sealed([alert], ["alert@example.org"])
    return alert


@pytest.mark.django_db(transaction=True)
def test_slot_pools_of_two_processes_reserve_in_chunks_and_never_overlap(settings):
    """Two pools (two worker processes) with three threads each, one shared bucket: every
    slot handed out is at least one spacing from every other, whoever reserved it."""
    settings.NOTIFY_RATE_MARGIN = 0.03
    rate = Rate(50, 1.0)
    # One reserving in the background (a multi-threaded worker), one inline.
    pools = [ratelimit.SlotPool(background=True), ratelimit.SlotPool()]
    slots: list[float] = []
    lock = threading.Lock()

    def sender(pool: ratelimit.SlotPool) -> None:
        try:
            for _ in range(10):
                slot = pool.take("test:shared", rate, demand=3)
                with lock:
                    slots.append(slot)
        finally:
            connections.close_all()  # this thread's own, before the test database goes

    threads = [threading.Thread(target=sender, args=(p,)) for p in pools for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(slots) == 60
    ordered = sorted(slots)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    assert min(gaps) >= ratelimit.spacing(rate) - 1e-6, min(gaps)


@pytest.mark.django_db
def test_reserve_many_stays_within_the_horizon(settings):
    settings.NOTIFY_RATE_MARGIN = 0.0
    rate = Rate(100, 1.0)
    first = ratelimit.reserve_many("test:chunk", rate, 1000)
    assert 20 <= len(first) <= 26  # 0.25 s of slots at 100/s, not a thousand
    second = ratelimit.reserve_many("test:chunk", rate, 1000)
    assert second == [] or second[0] >= first[-1] + 0.01 - 1e-6


@pytest.mark.django_db
def test_a_batch_claim_takes_the_urgent_one_first_and_records_the_lease(net):
    _bulk(500, timezone.now() - timedelta(minutes=5))
    alert = _urgent()
    claimed = claim_batch(10)
    assert claimed[0].delivery.pk == alert.pk
    assert len(claimed) == 10
    rows = Delivery.objects.filter(pk__in=[c.delivery.pk for c in claimed])
    assert {(r.status, r.attempts) for r in rows} == {(Status.SENDING, 1)}
    assert Delivery.objects.filter(status=Status.QUEUED).count() == 491


@pytest.mark.django_db
def test_an_urgent_delivery_overtakes_a_bulk_backlog_and_stopping_gives_the_rest_back(
    net, smtp_server, settings
):
    settings.NOTIFY_CONSOLE = False
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_RATE = ""
    due = timezone.now() - timedelta(minutes=5)
    _bulk(10_000, due)
    _urgent()
    worker = Worker(threads=1, poll=0.01)

    def stop_after_a_few() -> None:
        wait_until(lambda: len(smtp_server.messages) >= 3, timeout=60)
        worker.request_stop()

    watcher = threading.Thread(target=stop_after_a_few, daemon=True)
    watcher.start()
    worker.run()
    watcher.join(timeout=5)

    assert smtp_server.messages[0].rcpt == ["alert@example.org"]
    sent = Delivery.objects.filter(status=Status.SENT).count()
    assert sent == len(smtp_server.messages) >= 3
    # Nothing is left claimed: what was held in memory went back in its place in line.
    assert not Delivery.objects.filter(status=Status.SENDING).exists()
    waiting = Delivery.objects.filter(status=Status.QUEUED)
    assert waiting.count() == 10_001 - sent
    assert set(waiting.values_list("next_attempt_at", flat=True)) == {due}
    assert set(waiting.values_list("attempts", flat=True)) == {0}
