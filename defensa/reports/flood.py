"""Flood control for public intake, without storing anything about the sender.

Counters are keyed by `request.source_tag` (an HMAC of the address under a key that lives
only in this process's memory and changes daily; defensa/core/middleware.py) and are kept
only in this process's memory: never in the database, a cache server or a file. Each gunicorn
worker counts on its own, so with W workers one source may get up to W times the limit
through before every worker has seen it; that is the price of keeping nothing at rest. With
M web machines the bound is M x W x the limit (docs/operations.md, "Several web machines").
"""

from __future__ import annotations

import threading
import time
from collections import deque

from django.conf import settings

# Bound the memory a flood of distinct sources can take; the oldest sources go first.
MAX_SOURCES = 50_000


class FloodGate:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, tag: str, now: float | None = None) -> bool:
        """Count one attempt from `tag`; False when it is over the limit for the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.pop(tag, None) or deque()
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            # Re-inserting keeps the dict in least-recently-seen order for trimming.
            self._hits[tag] = hits
            while len(self._hits) > MAX_SOURCES:
                self._hits.pop(next(iter(self._hits)))
            return allowed

    def recent(self, tag: str, now: float | None = None) -> int:
        """How many attempts from `tag` the window holds (this one included, once counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(tag)
            if not hits:
                return 0
            # The hits are in time order: drop the expired ones from the left (none of the
            # three questions needs them) instead of counting them all on every post, which
            # grew with the limit (a limit raised to thousands cost a post ~0.5 ms).
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            return len(hits)

    def retry_after(self, tag: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(tag)
            if not hits:
                return 0
            return max(1, int(hits[0] + self.window_s - now) + 1)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


# This many posts from one source within the window make a burst: triage counts such a report,
# but not as an independent one (defensa/incidents/triage.py).
BURST_FROM = 3

gate = FloodGate(
    limit=settings.REPORT_FLOOD_LIMIT, window_s=settings.REPORT_FLOOD_WINDOW_MINUTES * 60
)
