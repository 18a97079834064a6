"""The worker loop, backoff, shared rate limits and priorities, with several workers at once."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from defensa.notify import ratelimit
from defensa.notify.models import RateBucket
from defensa.notify.outbox import backoff
from defensa.notify.tests.helpers import run_worker
from defensa.notify.transports import Rate


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 10
    settings.NOTIFY_RETRY_MAX_SECONDS = 900
    for attempt, step in [(1, 10), (2, 20), (3, 40), (4, 80), (10, 900), (30, 900)]:
        delays = {backoff(attempt) for _ in range(50)}
        assert all(step / 2 <= d <= step for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered: workers that failed together don't retry together


def test_backoff_honours_retry_after(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 10
    assert backoff(1, retry_after=120) >= 120
    assert 5 <= backoff(1, retry_after=0.5) <= 10


def windows_over(times: list[float], rate: Rate) -> int:
    """The most sends seen in any window of `rate.seconds` (half-open), over a burst."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - rate.seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_windows_over_counts_the_busiest_window():
    assert windows_over([0, 0.5, 0.99, 1.0, 1.5], Rate(3, 1)) == 3
    assert windows_over([0, 0.1, 0.2, 0.3], Rate(3, 1)) == 4


@pytest.mark.django_db
def test_reserve_spaces_slots_and_refuses_beyond_the_horizon(settings):
    settings.NOTIFY_RATE_MARGIN = 0.0
    rate = Rate(10, 1.0)
    slots = []
    while (slot := ratelimit.reserve("test:key", rate)) is not None:
        slots.append(slot)
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert all(g >= 0.1 - 1e-6 for g in gaps), (slots, gaps)  # stored as a double
    # The horizon (0.25 s at 10/s) bounds how far ahead anyone may queue.
    assert 2 <= len(slots) <= 4
    assert RateBucket.objects.get(key="test:key").next_free_at > time.time()


@pytest.mark.django_db
def test_an_idle_worker_polls_without_writing(net):
    with CaptureQueriesContext(connection) as queries:
        run_worker()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]
