"""Development transport: writes each message to the log instead of sending it.

On when DEBUG or DEFENSA_DEMO is set, or when NOTIFY_CONSOLE=1. Never on in production by
default: a message "sent" to a log reaches nobody.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings

from defensa.notify.transports import Outgoing, Rate, SendResult, Transport, parse_rate

if TYPE_CHECKING:
    from defensa.notify.models import Delivery

log = logging.getLogger("defensa.notify.console")


class ConsoleTransport(Transport):
    kind: ClassVar[str] = "console"
    channels: ClassVar[tuple[str, ...]] = ("email", "sms")

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(settings.NOTIFY_CONSOLE)

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.NOTIFY_CONSOLE_RATE)

    def send(self, delivery: Delivery, out: Outgoing) -> SendResult:
        message = out.message
        # WARNING level so it shows with the default LOG_LEVEL during `make run`.
        log.warning(
            "delivery #%s (%s, %s) to %s\n%s%s",
            delivery.pk,
            delivery.channel,
            delivery.language,
            out.to,
            f"Subject: {message.subject}\n" if message.subject else "",
            message.body,
        )
        return SendResult(provider_message_id=f"console-{delivery.pk}")
