"""A per-process cap on costly work, with a short queue, answering "busy" beyond it.

Used for photo decoding (core/imaging.py) and password hashing (accounts/hashers.py): both
are cheap for a stranger to ask for and costly to serve. Counting is per process and in
memory only; nothing about who asked is kept. A request that cannot even queue is refused at
once, so a flood does not hold every web thread waiting and starve the other pages.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator


class Busy(Exception):
    """Every slot is taken and the queue is full (or the wait ran out, or the rate is spent)."""


class Slots:
    def __init__(
        self,
        slots: int,
        wait_s: float,
        *,
        waiting: int | None = None,
        per_second: float = 0,
        busy: type[Busy] = Busy,
    ) -> None:
        """`slots` at work at once, `waiting` more (default: as many) for up to `wait_s`;
        with `per_second`, also a token bucket: at most that many starts a second on average,
        bursts of up to `slots + waiting`. Refusals raise `busy` (a subclass of Busy)."""
        self.slots = slots
        self.wait_s = wait_s
        self.max_waiting = slots if waiting is None else waiting
        self.per_second = per_second
        self.busy = busy
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._waiting = 0
        self._burst = float(slots + self.max_waiting)
        self._tokens = self._burst
        self._refilled = time.monotonic()

    def reset(self) -> None:
        """A full bucket again (tests; nothing else needs to forget)."""
        with self._lock:
            self._tokens = self._burst
            self._refilled = time.monotonic()

    def _take_token(self) -> bool:
        if not self.per_second:
            return True
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self.per_second)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self._waiting >= self.max_waiting or not self._take_token():
                raise self.busy
            self._waiting += 1
        try:
            acquired = self._free.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise self.busy
        try:
            yield
        finally:
            self._free.release()
