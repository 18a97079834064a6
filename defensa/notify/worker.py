"""The in-process scheduler of deliveries: send claimed deliveries concurrently within each
provider's rate, most urgent first, and hand their outcomes to the outbox store in batches.

Claiming, giving back and recording attempts (and the at-least-once lease they rest on) live
in `outbox.py`; this module decides what to claim, when, and which thread sends it.

One process (`manage.py deliver`) runs one dispatcher (this module's `Worker.run`) and up to
`threads` sending threads, started as the provider's latency needs them:

- the dispatcher claims a batch of due deliveries in one transaction (`outbox.claim_batch`),
  checks them (opt-outs in one query), renders them and puts them on an in-memory line ordered
  by priority; it keeps only about what the providers' rates can take in the next fraction of
  a second in that line, and every poll it looks for due deliveries *more urgent* than the
  least urgent one waiting in it, so an alert overtakes a bulk backlog within one poll;
- each sending thread takes the most urgent waiting delivery, connects, waits for a rate slot
  (reserved in chunks in the shared RateBucket row: `ratelimit.SlotPool`) and hands it over;
- the dispatcher records the outcomes of all sends finished since its last write in one
  transaction (`outbox.finish_many`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection
from django.template import TemplateDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.notify import actions, messages, ratelimit
from defensa.notify.models import Delivery
from defensa.notify.outbox import Claimed, Done, claim_batch, finish_many, release_many
from defensa.notify.transports import (
    Outgoing,
    Rate,
    SendResult,
    Transport,
    TransportError,
    transport_for_channel,
)

log = logging.getLogger("defensa.notify.worker")

# Outcomes are committed at least this often while sends go on (the at-least-once window).
FLUSH_SECONDS = 0.1
SWITCH_INTERVAL = 0.0005
# Sends a worker holds beyond what its rate slots and the provider's latency need.
LINE_SLACK_SECONDS = 0.5
# How often a worker holding less urgent deliveries looks for more urgent ones (one indexed
# read of the first due row).
URGENT_CHECK_SECONDS = 0.05


def _persist(write: Callable[[], object], tries: int = 8) -> None:
    """Run a database write, retrying while the database is busy (SQLite) or briefly away."""
    for attempt in range(tries):
        try:
            write()
            return
        except OperationalError:
            if attempt == tries - 1:
                raise
            log.warning("database busy while recording deliveries; retrying", exc_info=True)
            time.sleep(min(0.05 * 2**attempt, 2.0))


@dataclass(order=True)
class Job:
    """A claimed, checked and rendered delivery waiting for a sending thread."""

    sort: tuple[int, float, int]
    claimed: Claimed = field(compare=False)
    outgoing: Outgoing = field(compare=False)
    transport: Transport = field(compare=False)
    rate: Rate | None = field(compare=False)
    key: str = field(compare=False)

    @property
    def delivery(self) -> Delivery:
        return self.claimed.delivery


class Worker:
    """Claims, sends and records deliveries until stopped (or, with once=True, until idle).

    `threads` bounds the sends in flight in this process; sending threads are started when
    work waits and every thread is busy (a slow provider needs rate x latency of them).
    """

    def __init__(
        self,
        *,
        threads: int = 1,
        once: bool = False,
        poll: float | None = None,
        batch: int | None = None,
    ):
        self.threads = max(1, threads)
        self.once = once
        self.poll = settings.NOTIFY_POLL_SECONDS if poll is None else poll
        self.batch = max(1, batch or settings.NOTIFY_CLAIM_BATCH)
        self.stopping = threading.Event()
        # Set from a signal handler, which must take no lock: a second signal arriving while
        # the first handler is inside Event.set() would deadlock on the event's own lock.
        self.stop_requested = False
        self.handled = 0  # deliveries this worker claimed and dealt with
        self._count_lock = threading.Lock()
        self._cond = threading.Condition()
        self._line: list[Job] = []  # a heap: most urgent first
        self._waiting_by_channel: dict[str, int] = {}
        self._waiting_by_key: dict[str, int] = {}
        self._in_flight = 0
        self._done: list[Done] = []
        self._first_done_at = 0.0
        self._give_back: list[Claimed] = []
        self._senders: list[threading.Thread] = []
        self._idle_senders = 0
        self._seq = itertools.count()
        self._slots = ratelimit.SlotPool(background=self.threads > 1)
        self._latency = 0.05  # seconds per send, a moving average
        self._next_check = 0.0
        self._recent_channels: set[str] = set()

    def stop(self) -> None:
        self.stopping.set()

    def request_stop(self) -> None:
        """Ask the worker to stop; safe to call from a signal handler (takes no lock)."""
        self.stop_requested = True

    @property
    def _stopping(self) -> bool:
        return self.stopping.is_set() or self.stop_requested

    # -- the dispatcher -------------------------------------------------------------------

    def run(self) -> None:
        if self.threads > 1:
            # A sending thread waking for its rate slot must get the interpreter at once, not
            # after the dispatcher's next 5 ms of Python (a slot missed is a send lost).
            sys.setswitchinterval(SWITCH_INTERVAL)
        last_fresh = time.monotonic()
        try:
            while True:
                stopping = self._stopping
                if stopping and not self.stopping.is_set():
                    self.stopping.set()
                try:
                    if time.monotonic() - last_fresh > 30 and not connection.in_atomic_block:
                        # Drop a broken or too-old connection now and then (as requests do).
                        close_old_connections()
                        last_fresh = time.monotonic()
                    self._flush(force=stopping)
                    if stopping:
                        self._give_back_waiting()
                        with self._cond:
                            if not self._in_flight and not self._done and not self._give_back:
                                return
                            self._cond.wait(0.05)
                        continue
                    claimed = self._refill()
                except OperationalError:
                    # The database was busy or briefly away: wait and carry on.
                    log.warning("database error in the delivery worker", exc_info=True)
                    connection.close()
                    self.stopping.wait(self.poll)
                    continue
                if self.threads == 1:
                    job = self._pop()
                    if job is not None:
                        self._send(job)
                        continue
                with self._cond:
                    busy = bool(self._line) or self._in_flight or self._done
                    if self.once and not claimed and not busy and not self._give_back:
                        return
                    if self.threads > 1:
                        # One sending thread per waiting delivery no idle thread will take, up
                        # to the bound: a slow provider needs rate x latency of them at once.
                        wanted = len(self._line) - self._idle_senders
                        for _ in range(min(wanted, self.threads - len(self._senders))):
                            self._start_sender()
                    if self._done and time.monotonic() - self._first_done_at >= FLUSH_SECONDS:
                        continue
                    if claimed:
                        continue
                    self._cond.wait(URGENT_CHECK_SECONDS if busy else self.poll)
        finally:
            self.stopping.set()
            with self._cond:
                self._cond.notify_all()
            for thread in self._senders:
                thread.join(timeout=30)
            if self._done or self._give_back:
                self._flush(force=True)

    def _caps(self) -> tuple[dict[str, int], dict[str, tuple[Transport, Rate | None]]]:
        """How many deliveries of each channel to hold here: what its rate can take before
        the next claims (plus one per send in flight), at most a batch."""
        caps: dict[str, int] = {}
        transports: dict[str, tuple[Transport, Rate | None]] = {}
        for channel in settings.NOTIFY_CHANNELS:
            try:
                transport = transport_for_channel(channel)
            except TransportError:
                caps[channel] = self.batch  # its deliveries fail at once, visibly
                continue
            rate = transport.rate
            transports[channel] = (transport, rate)
            if rate is None:
                caps[channel] = self.batch
            else:
                # Slack: enough in hand to ride out a stalled database write (a checkpoint).
                ahead = ratelimit.horizon(rate) + self._latency + LINE_SLACK_SECONDS
                caps[channel] = max(1, min(self.batch, math.ceil(ahead / rate.interval) + 1))
        return caps, transports

    def _refill(self) -> bool:
        """Claim more deliveries if the line runs short, or if more urgent ones are due."""
        caps, transports = self._caps()
        with self._cond:
            waiting = dict(self._waiting_by_channel)
            least = self._line and max(self._line).sort[0]
        full = [ch for ch, cap in caps.items() if waiting.get(ch, 0) * 2 > cap]
        # Size the claim for the channels the last claim found work on (most often one).
        rooms = {ch: caps[ch] - waiting.get(ch, 0) for ch in caps if ch not in full}
        recent = [room for ch, room in rooms.items() if ch in self._recent_channels]
        claimed: list[Claimed] = []
        # While a channel that had work is full, wait: looking past its backlog for other
        # channels' work would scan it all (the urgent check below still runs).
        if rooms and not self._recent_channels.intersection(full):
            claimed = claim_batch(max(recent or rooms.values()), full)
            if claimed:
                self._recent_channels = {c.delivery.channel for c in claimed}
        now = time.monotonic()
        if not claimed and least and now >= self._next_check:
            # Something more urgent than the least urgent delivery held here? Take it now.
            self._next_check = now + min(self.poll, URGENT_CHECK_SECONDS)
            claimed = claim_batch(self.batch, (), above_priority=-least)
        if claimed:
            self._prepare(claimed, transports)
            self._trim(caps)
        return bool(claimed)

    def _prepare(
        self, claimed: list[Claimed], transports: dict[str, tuple[Transport, Rate | None]]
    ) -> None:
        """Check, render and line up a claimed batch; record at once what cannot go out."""
        reasons = actions.unwanted([c.delivery for c in claimed])
        cache: dict = {}  # type: ignore[type-arg]
        for c in claimed:
            delivery = c.delivery
            now = timezone.now()

            def done(kind: str, delivery: Delivery = delivery, now: datetime = now, **kw) -> None:  # type: ignore[no-untyped-def]
                self._record(Done(delivery, kind, now, **kw))

            if delivery.pk in reasons:
                done("", cancelled=reasons[delivery.pk])
                continue
            if delivery.channel not in transports:
                try:
                    found = transport_for_channel(delivery.channel)
                except TransportError as exc:
                    done("", error=exc)
                    continue
                transports[delivery.channel] = (found, found.rate)
            transport, rate = transports[delivery.channel]
            try:
                message = messages.render(delivery, cache)
            except TemplateDoesNotExist as exc:
                log.error("delivery #%s: no template %s", delivery.pk, exc)
                missing = TransportError(
                    gettext_noop("the message template is missing"), permanent=True
                )
                done(transport.kind, error=missing)
                continue
            except Exception:  # a context builder found its object gone, or a template bug
                log.exception("rendering delivery #%s failed", delivery.pk)
                done(
                    transport.kind,
                    error=TransportError(gettext_noop("the message could not be written")),
                )
                continue
            address = delivery.resolve_address()
            if not address:
                no_address = TransportError(gettext_noop("no address to send to"), permanent=True)
                done(transport.kind, error=no_address)
                continue
            outgoing = Outgoing(message=message, to=address)
            sort = (-delivery.priority, c.due.timestamp(), next(self._seq))
            # Lined up as soon as it is written: the first sends start while the rest of the
            # batch is still being rendered.
            self._line_up(Job(sort, c, outgoing, transport, rate, transport.rate_key))

    def _line_up(self, job: Job) -> None:
        with self._cond:
            heapq.heappush(self._line, job)
            self._count(job, +1)
            if self.threads > 1 and not self._idle_senders and len(self._senders) < self.threads:
                self._start_sender()
            self._cond.notify()

    def _count(self, job: Job, step: int) -> None:
        channel = job.delivery.channel
        self._waiting_by_channel[channel] = self._waiting_by_channel.get(channel, 0) + step
        self._waiting_by_key[job.key] = self._waiting_by_key.get(job.key, 0) + step

    def _trim(self, caps: dict[str, int]) -> None:
        """Give back the least urgent deliveries held beyond a channel's cap (after a claim
        sized for another channel, or an urgent claim on top of a full line)."""
        with self._cond:
            surplus: list[Job] = []
            for channel, cap in caps.items():
                extra = self._waiting_by_channel.get(channel, 0) - cap
                if extra <= 0:
                    continue
                mine = sorted(j for j in self._line if j.delivery.channel == channel)
                surplus.extend(mine[-extra:])
            if not surplus:
                return
            drop = {id(j) for j in surplus}
            self._line = [j for j in self._line if id(j) not in drop]
            heapq.heapify(self._line)
            for job in surplus:
                self._count(job, -1)
                self._give_back.append(job.claimed)

    def _pop(self) -> Job | None:
        with self._cond:
            if not self._line:
                return None
            job = heapq.heappop(self._line)
            self._count(job, -1)
            self._in_flight += 1
            return job

    def _give_back_waiting(self) -> None:
        with self._cond:
            while self._line:
                job = heapq.heappop(self._line)
                self._count(job, -1)
                self._give_back.append(job.claimed)

    def _record(self, done: Done) -> None:
        with self._cond:
            if not self._done:
                self._first_done_at = time.monotonic()
            self._done.append(done)
            self._cond.notify_all()

    def _flush(self, force: bool = False) -> None:
        """Write every finished outcome (and give back unsent deliveries) in one transaction."""
        with self._cond:
            due = self._done and (
                force
                or len(self._done) >= self.batch
                or time.monotonic() - self._first_done_at >= FLUSH_SECONDS
                or (not self._line and not self._in_flight)
            )
            dones = list(self._done) if due else []
            back = list(self._give_back)
        if back:
            _persist(lambda: release_many(back))
            with self._cond:
                del self._give_back[: len(back)]
        if dones:
            # The messages may have gone: recording that must outlast a busy database, or
            # the lease would run out and the messages would go twice.
            _persist(lambda: finish_many(dones))
            with self._cond:
                del self._done[: len(dones)]
                if self._done:
                    self._first_done_at = time.monotonic()
            with self._count_lock:
                self.handled += len(dones)

    # -- the sending threads --------------------------------------------------------------

    def _start_sender(self) -> None:
        thread = threading.Thread(
            target=self._sender, name=f"deliver-{len(self._senders)}", daemon=True
        )
        self._senders.append(thread)
        thread.start()

    def _sender(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._line and not self.stopping.is_set():
                        self._idle_senders += 1
                        self._cond.wait(1.0)
                        self._idle_senders -= 1
                    if not self._line:
                        return
                    job = heapq.heappop(self._line)
                    self._count(job, -1)
                    self._in_flight += 1
                self._send(job)
        finally:
            connection.close()

    def _send(self, job: Job) -> None:
        delivery = job.delivery
        try:
            lease_left = (delivery.next_attempt_at - timezone.now()).total_seconds()
            if lease_left < settings.NOTIFY_LEASE_SECONDS / 2:
                # Held too long here (a stalled machine): another worker may take it soon.
                # Give it back rather than risk sending it twice.
                with self._cond:
                    self._give_back.append(job.claimed)
                return
            outgoing = job.outgoing
            rate = job.rate
            if rate is not None:
                key = job.key

                def gate() -> None:
                    demand = self._waiting_by_key.get(key, 0) + 1
                    self._slots.take(key, rate, demand)

                outgoing.gate = gate
                if not job.transport.takes_own_slot:
                    outgoing.take_slot()
            started = timezone.now()
            clock = time.monotonic()
            result: SendResult | None = None
            error: TransportError | None = None
            try:
                result = job.transport.send(delivery, outgoing)
            except TransportError as exc:
                error = exc
            except Exception:  # a bug in a transport must not kill the worker or lose the row
                log.exception(
                    "transport %s crashed on delivery #%s", job.transport.kind, delivery.pk
                )
                error = TransportError(gettext_noop("internal error in the transport"))
            elapsed = time.monotonic() - clock
            self._latency = 0.8 * self._latency + 0.2 * elapsed
            self._record(
                Done(
                    delivery,
                    job.transport.kind,
                    started,
                    int(elapsed * 1000),
                    result=result,
                    error=error,
                )
            )
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()
