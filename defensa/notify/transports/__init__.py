"""One small interface for every way Defensa sends a message.

A transport is a class with `kind`, `channels`, `is_enabled()` and `send(delivery, outgoing)`,
which returns a SendResult or raises TransportError. The worker hands each send an `Outgoing`:
the text rendered from ids in the person's language, the address to use, and `take_slot()`,
which waits for this send's provider rate slot. A transport that calls
`take_slot()` itself right before the final hand-over (after connecting) sets
`takes_own_slot = True`, so network set-up time does not bunch sends together; for the others
the worker waits before calling `send`. It lives in
its own folder, `transports/<kind>/`, and is named in the registry below by dotted path, so a
transport's dependencies (an HTTP client, a push library) load only when it is used.
A transport turns on when its settings are present (`is_enabled()` reads them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from defensa.notify.messages import Rendered
    from defensa.notify.models import Delivery

# kind -> dotted path; each transport adds one line.
REGISTRY: dict[str, str] = {
    "console": "defensa.notify.transports.console.ConsoleTransport",
    "email": "defensa.notify.transports.email.EmailTransport",
    "twilio": "defensa.notify.transports.twilio.TwilioTransport",
    "webpush": "defensa.notify.transports.webpush.transport.WebPushTransport",
    "gateway": "defensa.notify.transports.gateway.GatewayTransport",
    "signal": "defensa.notify.transports.signal.SignalTransport",
}


def _no_wait() -> None:
    return None


@dataclass
class Outgoing:
    """What one send needs beyond the stored row (never stored itself)."""

    message: Rendered
    to: str
    gate: Callable[[], None] = field(default=_no_wait)
    slot_taken: bool = False

    def take_slot(self) -> None:
        """Wait for this send's rate slot (once); call it right before handing the message over."""
        if not self.slot_taken:
            self.slot_taken = True
            self.gate()


@dataclass(frozen=True)
class SendResult:
    """What a provider said when it accepted a message."""

    provider_message_id: str = ""


class TransportError(Exception):
    """A send failed. `permanent` stops retries; `retry_after` (seconds) is a provider's hint."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    """At most `count` sends per `seconds`, spaced evenly (a provider's queue never fills)."""

    count: int
    seconds: float

    @property
    def interval(self) -> float:
        return self.seconds / self.count


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*\.?\d*)\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_UNIT = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_rate(text: str) -> Rate | None:
    """Parse "1/s", "100/s", "30/min", "1/2s"; empty means unlimited."""
    if not text or not text.strip():
        return None
    match = _RATE.match(text.lower())
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"a rate looks like 1/s, 100/s or 30/min, not {text!r}")
    per = float(match.group(2) or 1) * _UNIT[match.group(3)]
    if per <= 0:
        raise ValueError(f"a rate needs a positive period, not {text!r}")
    return Rate(int(match.group(1)), per)


class Transport:
    """Base class. Subclasses set `kind` and `channels` and implement `send`."""

    kind: ClassVar[str] = ""
    channels: ClassVar[tuple[str, ...]] = ()
    takes_own_slot: ClassVar[bool] = False

    @classmethod
    def is_enabled(cls) -> bool:
        raise NotImplementedError

    @property
    def rate_key(self) -> str:
        """The provider account or number a rate limit applies to."""
        return self.kind

    @property
    def rate(self) -> Rate | None:
        return None

    def send(self, delivery: Delivery, outgoing: Outgoing) -> SendResult:
        """Hand `outgoing` (rendered for `delivery`) to the provider or raise TransportError."""
        raise NotImplementedError


class NoTransport(TransportError):
    def __init__(self, channel: str) -> None:
        super().__init__(
            gettext_noop("no transport is configured for this channel"), permanent=True
        )
        self.channel = channel


@cache
def transport_class(kind: str) -> type[Transport]:
    return import_string(REGISTRY[kind])  # type: ignore[no-any-return]


def transport_for_channel(channel: str) -> Transport:
    """The first enabled transport in the channel's configured order (NOTIFY_CHANNELS)."""
    for kind in settings.NOTIFY_CHANNELS.get(channel, ()):
        cls = transport_class(kind)
        if cls.is_enabled():
            return cls()
    raise NoTransport(channel)


def enabled_channels() -> set[str]:
    found = set()
    for channel in settings.NOTIFY_CHANNELS:
        try:
            transport_for_channel(channel)
        except NoTransport:
            continue
        found.add(channel)
    return found
