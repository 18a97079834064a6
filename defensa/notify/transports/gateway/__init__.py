"""SMS through a self-hosted HTTP gateway: an Android phone's SIM, for networks that can't pay
a provider.

Dialect: the local-server API of "SMS Gateway for Android" (capcom6/android-sms-gateway), the
widely used open-source app. On when SMS_GATEWAY_URL is set. One
`POST {SMS_GATEWAY_URL}/message` per message, basic auth, JSON
`{"id", "message", "phoneNumbers": [to], "withDeliveryReport": true, "priority"}`; the gateway
answers 202 with the message id. Its later fate arrives at our webhook (views.gateway_webhook)
as `sms:sent`, `sms:delivered` or `sms:failed`.

The message id is derived from the delivery's idempotency key, so a resend after a worker crash
carries the same id; a gateway that answers 409 (it already holds that id) has the message,
which counts as sent. Urgent deliveries get the gateway's priority 100, so on the phone an alert
goes ahead of any broadcast message still queued there.

Errors: 408, 429 (with Retry-After), 5xx, timeouts and an unreachable phone are transient;
400 (a number the phone refuses), 401/403 (wrong credentials: fix the settings, then "send
again"), 404 and other 4xx are permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.utils.translation import gettext_noop

from defensa.notify.models import Priority
from defensa.notify.transports import (
    Outgoing,
    Rate,
    SendResult,
    Transport,
    TransportError,
    parse_rate,
)
from defensa.notify.transports.http import post_json, retry_after

if TYPE_CHECKING:
    from defensa.notify.models import Delivery

# The gateway's own priority scale (-128..127); 100 and above jump its queue and delays.
URGENT_PRIORITY = 100
# A signed webhook older (or newer) than this is refused: a captured request can't be replayed.
SIGNATURE_TOLERANCE_SECONDS = 300


def message_id(idempotency_key: str) -> str:
    """Our id for the message at the gateway: the same on every retry of one delivery."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def signature(key: str, body: bytes, timestamp: str) -> str:
    """The gateway's webhook signature: hex HMAC-SHA256 over the raw body then the timestamp."""
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def signature_is_valid(
    key: str, body: bytes, timestamp: str, given: str, *, now: float | None = None
) -> bool:
    if not key or not given or not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return False
    if (
        abs((now if now is not None else time.time()) - int(timestamp))
        > SIGNATURE_TOLERANCE_SECONDS
    ):
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a header can hold them).
    expected = signature(key, body, timestamp).encode()
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def token_is_valid(given: str) -> bool:
    """The secret in the webhook's path, compared in constant time; no token set: refused."""
    expected = settings.SMS_GATEWAY_WEBHOOK_TOKEN
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class GatewayTransport(Transport):
    kind: ClassVar[str] = "gateway"
    channels: ClassVar[tuple[str, ...]] = ("sms",)
    takes_own_slot: ClassVar[bool] = True

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(settings.SMS_GATEWAY_URL)

    @property
    def rate_key(self) -> str:
        # One phone, one SIM: the carrier watches that number.
        return f"gateway:{settings.SMS_GATEWAY_URL}"[:120]

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.SMS_GATEWAY_RATE)

    def send(self, delivery: Delivery, out: Outgoing) -> SendResult:
        if not out.to:
            raise TransportError(gettext_noop("no address to send to"), permanent=True)
        ours = message_id(delivery.idempotency_key)
        payload = {
            "id": ours,
            "message": out.message.body.strip(),
            "phoneNumbers": [out.to],
            "withDeliveryReport": True,
            "priority": URGENT_PRIORITY if delivery.priority >= Priority.URGENT else 0,
        }
        headers = {"Idempotency-Key": delivery.idempotency_key}
        if settings.SMS_GATEWAY_USERNAME or settings.SMS_GATEWAY_PASSWORD:
            pair = f"{settings.SMS_GATEWAY_USERNAME}:{settings.SMS_GATEWAY_PASSWORD}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        reply = post_json(
            settings.SMS_GATEWAY_URL,
            "/message",
            payload,
            headers=headers,
            timeout=settings.SMS_GATEWAY_TIMEOUT,
            out=out,
            who="SMS gateway",
        )
        data = reply.json()
        data = data if isinstance(data, dict) else {}
        status = reply.status
        if 200 <= status < 300:
            recipients = data.get("recipients")
            first = recipients[0] if isinstance(recipients, list) and recipients else {}
            if isinstance(first, dict) and str(first.get("state", "")).lower() == "failed":
                reason = _word(first.get("error")) or "failed"
                raise TransportError(f"SMS gateway refused the number ({reason})", permanent=True)
            given = data.get("id")
            return SendResult(provider_message_id=str(given or ours)[:120])
        if status == 409:
            # Our id is already at the gateway: this is a resend of a message it has.
            return SendResult(provider_message_id=ours)
        reason = f"SMS gateway {status}"
        detail = _word(data.get("message"))
        if detail:
            reason += f" ({detail})"
        if status in (408, 429) or status >= 500:
            raise TransportError(
                reason, permanent=False, retry_after=retry_after(reply.header("Retry-After"))
            )
        raise TransportError(reason, permanent=True)


def _word(value: object) -> str:
    """A short, printable excerpt of a gateway's free-text reason (never a whole reply)."""
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch.isprintable())[:80]
