"""Provider rate limits shared by every worker thread and process, kept in the database.

Each provider account or number has a RateBucket row holding its next free send slot. A worker
reserves a slot in one short transaction (row lock on PostgreSQL; SQLite's IMMEDIATE
transactions serialise writers), waits until the slot, and sends. Slots are spaced by the
rate's interval plus a safety margin, so sends reach the provider evenly spaced and never
faster than its limit, whatever the number of workers.

Two details keep that true in practice:
- the slot is taken as late as possible, by the transport right before the final hand-over
  (after connecting), so connection set-up time does not bunch sends together;
- a worker that wakes too late for its slot (a busy machine) does not send late, which would
  crowd the next sender: it takes a fresh slot.
The margin (NOTIFY_RATE_MARGIN_PERCENT, 3% by default: 30 ms per second) is the timing jitter
absorbed per window: a third of it for waking late, the rest for the hand-over itself.
A worker reserves at most `horizon` seconds ahead: an urgent delivery never queues behind a
long line of reserved bulk slots.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction

from defensa.notify.models import RateBucket
from defensa.notify.transports import Rate

log = logging.getLogger("defensa.notify.ratelimit")


def horizon(rate: Rate) -> float:
    """How far ahead a slot may be reserved."""
    return max(2 * rate.interval, 0.25)


def spacing(rate: Rate) -> float:
    # The margin absorbs scheduling jitter between taking a slot and the provider seeing it.
    return rate.interval * (1 + settings.NOTIFY_RATE_MARGIN)


def _bucket_for_update(key: str) -> RateBucket:
    try:
        return RateBucket.objects.select_for_update().get(key=key)
    except RateBucket.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            RateBucket.objects.create(key=key, next_free_at=0.0)
    except IntegrityError:
        pass  # another worker created it first
    return RateBucket.objects.select_for_update().get(key=key)


def reserve(key: str, rate: Rate) -> float | None:
    """Reserve the next send slot (unix time) or return None if it is beyond the horizon."""
    with transaction.atomic():
        bucket = _bucket_for_update(key)
        now = time.time()
        slot = max(now, bucket.next_free_at)
        if slot - now > horizon(rate):
            return None
        bucket.next_free_at = slot + spacing(rate)
        bucket.save(update_fields=["next_free_at"])
    return slot


def late_tolerance(rate: Rate) -> float:
    return rate.seconds * settings.NOTIFY_RATE_MARGIN / 3


def take(key: str, rate: Rate) -> float:
    """Reserve a slot, wait for it and return it; never return a slot missed by more than the
    margin (a late send would crowd the next one)."""
    while True:
        slot = reserve(key, rate)
        if slot is None:
            time.sleep(max(0.001, free_at(key) - horizon(rate) - time.time()))
            continue
        wait_until(slot)
        if time.time() - slot <= late_tolerance(rate):
            return slot


def free_at(key: str) -> float:
    """When the bucket next has a slot (unix time); 0 when it never was used."""
    value = RateBucket.objects.filter(key=key).values_list("next_free_at", flat=True).first()
    return value or 0.0


# A busy machine wakes sleepers late; waking this much early and then napping in small steps
# keeps a slot's send on time (a slot missed by more than the tolerance is a send lost).
EARLY = 0.004


def wait_until(slot: float) -> None:
    delay = slot - time.time()
    if delay > EARLY:
        time.sleep(delay - EARLY)
    while (delay := slot - time.time()) > 0:
        time.sleep(min(delay, 0.0005))


def reserve_many(key: str, rate: Rate, count: int) -> list[float]:
    """Reserve up to `count` consecutive slots within the horizon in one transaction.

    The same spacing as `reserve`, so the bucket stays the one shared truth: several worker
    processes reserving chunks still interleave evenly and never exceed the rate. Returns the
    slots (unix times, ascending), possibly none when the bucket is booked beyond the horizon.
    """
    slots: list[float] = []
    with transaction.atomic():
        bucket = _bucket_for_update(key)
        now = time.time()
        slot = max(now, bucket.next_free_at)
        gap = spacing(rate)
        while len(slots) < count and slot - now <= horizon(rate):
            slots.append(slot)
            slot += gap
        if slots:
            bucket.next_free_at = slot
            bucket.save(update_fields=["next_free_at"])
    return slots


class SlotPool:
    """One process's reserved slots per provider, shared by its sending threads.

    A thread needing a slot takes the earliest reserved one. Whenever the pool holds fewer
    slots than the sends waiting for them, more (up to the horizon) are reserved in one
    transaction: in the background (`background=True`, several sending threads), so no thread
    that already holds a slot ever waits on the database, and none waits behind another's
    reservation between its lateness check and its send. A slot missed by more than the late
    tolerance is dropped, never used late: a dropped slot costs throughput, a late one could
    crowd the next and exceed the rate.
    """

    def __init__(self, *, background: bool = False) -> None:
        self.background = background
        # Guards the deques and counters only; never held while waiting or in the database.
        self._lock = threading.Lock()
        self._reserving = threading.Lock()  # one reservation at a time
        self._slots: dict[str, deque[float]] = {}
        self._waiting: dict[str, int] = {}
        self._refilling: set[str] = set()

    def take(self, key: str, rate: Rate, demand: int = 1) -> float:
        """Wait for this send's slot and return it. `demand`: sends of this key known to be
        coming soon in this process (a hint for how many slots to reserve at once)."""
        with self._lock:
            self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            while True:
                try:
                    slot = self._next(key, rate, demand)
                except OperationalError:
                    # The database is busy (or briefly away): the send waits, it doesn't fail.
                    log.warning("reserving rate slots failed; retrying", exc_info=True)
                    time.sleep(0.05)
                    continue
                if slot is None:
                    time.sleep(max(0.001, min(free_at(key) - horizon(rate) - time.time(), 1.0)))
                    continue
                wait_until(slot)
                if time.time() - slot <= late_tolerance(rate):
                    return slot
        finally:
            with self._lock:
                self._waiting[key] -= 1

    def _wanted(self, key: str, demand: int) -> int:
        return max(demand, self._waiting.get(key, 1), 1)

    def _pop(self, key: str, rate: Rate, demand: int) -> tuple[float | None, bool]:
        """The next usable slot (or None), and whether the pool is running low."""
        with self._lock:
            queue = self._slots.setdefault(key, deque())
            stale = time.time() - late_tolerance(rate)
            while queue and queue[0] < stale:
                queue.popleft()
            slot = queue.popleft() if queue else None
            low = len(queue) < self._wanted(key, demand) and key not in self._refilling
            if low and slot is not None and self.background:
                self._refilling.add(key)
            return slot, low

    def _next(self, key: str, rate: Rate, demand: int) -> float | None:
        slot, low = self._pop(key, rate, demand)
        if slot is not None:
            if low and self.background:
                threading.Thread(target=self._refill, args=(key, rate, demand), daemon=True).start()
            return slot
        with self._reserving:
            slot, _low = self._pop(key, rate, demand)  # another thread may have refilled
            if slot is not None:
                return slot
            got = reserve_many(key, rate, self._wanted(key, demand))
            with self._lock:
                self._slots[key].extend(got[1:])
            return got[0] if got else None

    def _refill(self, key: str, rate: Rate, demand: int) -> None:
        from django.db import connection

        try:
            with self._reserving:
                got = reserve_many(key, rate, self._wanted(key, demand))
                with self._lock:
                    queue = self._slots[key]
                    queue.extend(s for s in got if not queue or s > queue[-1])
        except Exception:  # the sending threads reserve for themselves when it runs dry
            log.warning("reserving rate slots in the background failed", exc_info=True)
        finally:
            with self._lock:
                self._refilling.discard(key)
            connection.close()
