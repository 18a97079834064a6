"""The worker: claim due deliveries, highest priority first, send them, record every attempt.

At-least-once: a delivery is claimed by setting it to 'sending' with a lease (next_attempt_at
= the lease's end) and committing. A worker killed mid-send leaves the row 'sending'; when the
lease runs out any worker claims it again (recording the lost attempt as 'abandoned'). A message
can therefore go out twice only if a worker dies between the provider accepting it and our
commit; transports pass the idempotency key to providers that deduplicate on it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction
from django.template import TemplateDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.audit.log import record
from defensa.notify import actions, messages, ratelimit
from defensa.notify.models import AttemptStatus, Delivery, DeliveryAttempt, Status
from defensa.notify.transports import (
    Outgoing,
    SendResult,
    Transport,
    TransportError,
    transport_for_channel,
)

log = logging.getLogger("defensa.notify.worker")
_random = secrets.SystemRandom()


@dataclass
class Claimed:
    delivery: Delivery
    due: datetime  # its place in line, restored if it has to wait for a rate slot


@dataclass
class Outcome:
    """What one step did: `idle` (nothing due), or a channel blocked by its rate until a time."""

    idle: bool = False
    blocked_channel: str = ""
    blocked_until: float = 0.0


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


def claim(exclude_channels: list[str]) -> Claimed | None:
    """Take the most urgent due delivery (or an expired lease) for this worker."""
    due = Delivery.objects.filter(
        status__in=[Status.QUEUED, Status.SENDING], next_attempt_at__lte=timezone.now()
    ).exclude(channel__in=exclude_channels)
    # A plain read first: on SQLite every atomic block takes the write lock, and an idle
    # worker polling with writes would make web requests wait.
    if not due.exists():
        return None
    while True:
        with transaction.atomic():
            now = timezone.now()
            query = (
                due.filter(next_attempt_at__lte=now)
                .order_by("-priority", "next_attempt_at", "id")
                # PostgreSQL: workers skip each other's rows. SQLite ignores this; its
                # IMMEDIATE transactions let one writer in at a time, which serialises claims.
                .select_for_update(skip_locked=True, of=("self",))
            )
            delivery = query.first()
            if delivery is None:
                return None
            place = delivery.next_attempt_at
            if delivery.status == Status.SENDING:
                # Its worker died mid-send (the lease ran out): say so, then try again.
                DeliveryAttempt.objects.create(
                    delivery=delivery,
                    number=delivery.attempts,
                    transport=delivery.transport,
                    status=AttemptStatus.ABANDONED,
                    error=gettext_noop("the worker stopped mid-send; the outcome is unknown"),
                    started_at=now,
                )
                if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                    # A message that kills every worker that touches it must not kill them all.
                    _fail(
                        delivery, gettext_noop("a worker stopped while sending it, too many times")
                    )
                    continue
            delivery.status = Status.SENDING
            delivery.attempts += 1
            delivery.next_attempt_at = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
            delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        return Claimed(delivery, place)


def _fail(delivery: Delivery, reason: str) -> None:
    delivery.status = Status.FAILED
    delivery.last_error = reason[:300]
    delivery.save(update_fields=["status", "last_error"])
    # A person must see it: it is listed first on the deliveries page.
    record("notify.delivery_failed", obj=delivery, channel=delivery.channel)


def release(claimed: Claimed) -> None:
    """Give a claimed delivery back untouched, in its old place in line."""
    Delivery.objects.filter(
        pk=claimed.delivery.pk, status=Status.SENDING, attempts=claimed.delivery.attempts
    ).update(
        status=Status.QUEUED,
        attempts=claimed.delivery.attempts - 1,
        next_attempt_at=claimed.due,
    )


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
    """Record the attempt and move the delivery on: sent, retry later, failed or cancelled."""
    with transaction.atomic():
        current = Delivery.objects.select_for_update().get(pk=delivery.pk)
        ours = current.status == Status.SENDING and current.attempts == delivery.attempts
        if cancelled:
            current.status = Status.CANCELLED
            current.last_error = cancelled[:300]
        elif error is None:
            assert result is not None  # noqa: S101 (sent or failed: one of the two)
            DeliveryAttempt.objects.create(
                delivery=current,
                number=delivery.attempts,
                transport=transport,
                status=AttemptStatus.SENT,
                provider_message_id=result.provider_message_id[:120],
                started_at=started,
                duration_ms=duration_ms,
            )
            # Even if our lease ran out meanwhile, the message did go: say so.
            current.status = Status.SENT
            current.sent_at = timezone.now()
            current.provider_message_id = result.provider_message_id[:120]
            current.last_error = ""
            ours = True
        else:
            final = error.permanent or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS
            DeliveryAttempt.objects.create(
                delivery=current,
                number=delivery.attempts,
                transport=transport,
                status=AttemptStatus.PERMANENT if error.permanent else AttemptStatus.TRANSIENT,
                error=error.message[:300],
                started_at=started,
                duration_ms=duration_ms,
            )
            if ours:
                current.last_error = error.message[:300]
                if final:
                    current.transport = transport
                    _fail(current, error.message)
                else:
                    current.status = Status.QUEUED
                    current.next_attempt_at = timezone.now() + timedelta(
                        seconds=backoff(delivery.attempts, error.retry_after)
                    )
        if ours:
            current.transport = transport
            current.save()
        else:
            log.warning("delivery #%s was taken over by another worker", delivery.pk)
    return current


def step(exclude_channels: list[str] | None = None) -> Outcome:
    """Claim one due delivery and deal with it."""
    claimed = claim(exclude_channels or [])
    if claimed is None:
        return Outcome(idle=True)
    delivery = claimed.delivery
    now = timezone.now()

    def done(kind: str, **kwargs: object) -> Outcome:
        finish(delivery, transport=kind, started=now, duration_ms=0, **kwargs)  # type: ignore[arg-type]
        return Outcome()

    reason = actions.still_wanted(delivery)
    if reason:
        return done("", cancelled=reason)
    try:
        transport: Transport = transport_for_channel(delivery.channel)
    except TransportError as exc:
        return done("", error=exc)
    try:
        message = messages.render(delivery)
    except TemplateDoesNotExist as exc:
        log.error("delivery #%s: no template %s", delivery.pk, exc)
        missing = TransportError(gettext_noop("the message template is missing"), permanent=True)
        return done(transport.kind, error=missing)
    except Exception:  # a context builder found its object gone, or a template bug
        log.exception("rendering delivery #%s failed", delivery.pk)
        return done(
            transport.kind,
            error=TransportError(gettext_noop("the message could not be written")),
        )
    address = delivery.resolve_address()
    if not address:
        no_address = TransportError(gettext_noop("no address to send to"), permanent=True)
        return done(transport.kind, error=no_address)

    outgoing = Outgoing(message=message, to=address)
    rate = transport.rate
    if rate is not None:
        key = transport.rate_key
        # The provider's pipe is full beyond the horizon: put the delivery back in its place
        # and let this worker look at other channels (an urgent one may be waiting there).
        until = ratelimit.free_at(key) - ratelimit.horizon(rate)
        if until > time.time():
            _persist(lambda: release(claimed))
            return Outcome(blocked_channel=delivery.channel, blocked_until=until)
        outgoing.gate = lambda: _ignore(ratelimit.take(key, rate))
        if not transport.takes_own_slot:
            outgoing.take_slot()
    delivery.outgoing = outgoing

    started = timezone.now()
    clock = time.monotonic()
    result: SendResult | None = None
    error: TransportError | None = None
    try:
        result = transport.send(delivery)
    except TransportError as exc:
        error = exc
    except Exception:  # a bug in a transport must not kill the worker or lose the row
        log.exception("transport %s crashed on delivery #%s", transport.kind, delivery.pk)
        error = TransportError(gettext_noop("internal error in the transport"))
    duration_ms = int((time.monotonic() - clock) * 1000)
    # The message may have gone: recording that must outlast a busy database, or the lease
    # would run out and the message would go twice.
    _persist(
        lambda: finish(
            delivery,
            transport=transport.kind,
            started=started,
            duration_ms=duration_ms,
            result=result,
            error=error,
        )
    )
    return Outcome()


def _ignore(value: object) -> None:
    return None


def _persist(write: Callable[[], object], tries: int = 8) -> None:
    """Run a database write, retrying while the database is busy (SQLite) or briefly away."""
    for attempt in range(tries):
        try:
            write()
            return
        except OperationalError:
            if attempt == tries - 1:
                raise
            log.warning("database busy while recording a delivery; retrying", exc_info=True)
            time.sleep(min(0.05 * 2**attempt, 2.0))


class Worker:
    """Runs `threads` loops of `step()` until stopped (or, with once=True, until idle)."""

    def __init__(self, *, threads: int = 1, once: bool = False, poll: float | None = None):
        self.threads = max(1, threads)
        self.once = once
        self.poll = settings.NOTIFY_POLL_SECONDS if poll is None else poll
        self.stopping = threading.Event()
        # Set from a signal handler, which must take no lock: a second signal arriving while
        # the first handler is inside Event.set() would deadlock on the event's own lock.
        self.stop_requested = False
        self.handled = 0  # deliveries this worker claimed and dealt with
        self._count_lock = threading.Lock()

    def stop(self) -> None:
        self.stopping.set()

    def request_stop(self) -> None:
        """Ask the worker to stop; safe to call from a signal handler (takes no lock)."""
        self.stop_requested = True

    def run(self) -> None:
        if self.threads == 1:
            self._loop()
            return
        workers = [
            threading.Thread(target=self._loop, name=f"deliver-{n}", daemon=True)
            for n in range(self.threads)
        ]
        for thread in workers:
            thread.start()
        while any(thread.is_alive() for thread in workers):
            for thread in workers:
                thread.join(timeout=0.2)
            if self.stop_requested:
                self.stopping.set()

    def _loop(self) -> None:
        blocked: dict[str, float] = {}
        try:
            while not (self.stopping.is_set() or self.stop_requested):
                if not connection.in_atomic_block:
                    # Drop a broken or too-old connection between deliveries (as requests do).
                    close_old_connections()
                now = time.time()
                for channel in [ch for ch, until in blocked.items() if until <= now]:
                    del blocked[channel]
                try:
                    outcome = step(list(blocked))
                except OperationalError:
                    # The database was busy or briefly away: wait and carry on.
                    log.warning("database error in the delivery worker", exc_info=True)
                    self.stopping.wait(self.poll)
                    continue
                if not outcome.idle and not outcome.blocked_channel:
                    with self._count_lock:
                        self.handled += 1
                if outcome.blocked_channel:
                    blocked[outcome.blocked_channel] = outcome.blocked_until
                elif outcome.idle:
                    if blocked:
                        # Only rate-limited channels have work: wait for the first slot.
                        self.stopping.wait(max(0.0, min(min(blocked.values()) - time.time(), 1)))
                    elif self.once:
                        return
                    else:
                        self.stopping.wait(self.poll)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()
