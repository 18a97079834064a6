"""SMS through a Twilio-compatible REST API (Twilio, or any provider speaking its Messages API).

On when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are set. One POST per
message to {TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json with basic auth; the
provider's message SID is kept, and its later status (delivered, undelivered, failed) arrives
at our signed status callback (views.twilio_status).

Errors: HTTP 429 (with Retry-After) and 5xx, timeouts and dropped connections are transient;
other 4xx (an invalid number, a recipient who opted out at the carrier) are permanent.
The delivery's idempotency key travels in an `Idempotency-Key` header, for providers and
gateways that deduplicate on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import ssl
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_noop

from defensa.notify.transports import (
    Outgoing,
    Rate,
    SendResult,
    Transport,
    TransportError,
    parse_rate,
)

if TYPE_CHECKING:
    from defensa.notify.models import Delivery

API_VERSION = "2010-04-01"


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's request signature: HMAC-SHA1 over the URL and the sorted POST parameters."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(auth_token: str, url: str, params: dict[str, str], given: str) -> bool:
    if not auth_token or not given:
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a header can hold them).
    expected = signature(auth_token, url, params).encode()
    return hmac.compare_digest(expected, given.encode("utf-8", "replace"))


def status_callback_url() -> str:
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    return f"{base}{reverse('notify:twilio_status')}" if base else ""


class TwilioTransport(Transport):
    kind: ClassVar[str] = "twilio"
    channels: ClassVar[tuple[str, ...]] = ("sms",)
    # The connection is opened first; the rate slot gates only the request itself.
    takes_own_slot: ClassVar[bool] = True

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(
            settings.TWILIO_ACCOUNT_SID
            and settings.TWILIO_AUTH_TOKEN
            and settings.TWILIO_FROM_NUMBER
        )

    @property
    def rate_key(self) -> str:
        # Carriers limit each sending number; a messaging service spreads over its numbers.
        return f"twilio:{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_FROM_NUMBER}"

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.TWILIO_RATE)

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(settings.TWILIO_API_BASE)
        timeout = settings.TWILIO_TIMEOUT
        if parts.scheme == "https":
            return http.client.HTTPSConnection(
                parts.hostname or "",
                parts.port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def send(self, delivery: Delivery, out: Outgoing) -> SendResult:
        if not out.to:
            raise TransportError(gettext_noop("no address to send to"), permanent=True)
        sid = settings.TWILIO_ACCOUNT_SID
        form = {"To": out.to, "From": settings.TWILIO_FROM_NUMBER, "Body": out.message.body.strip()}
        callback = status_callback_url()
        if callback:
            form["StatusCallback"] = callback
        token = base64.b64encode(f"{sid}:{settings.TWILIO_AUTH_TOKEN}".encode()).decode()
        headers = {
            "Authorization": f"Basic {token}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
        }
        path = urlsplit(settings.TWILIO_API_BASE).path.rstrip("/")
        path += f"/{API_VERSION}/Accounts/{sid}/Messages.json"
        conn = self._connection()
        try:
            conn.connect()
            out.take_slot()
            conn.request("POST", path, body=urlencode(form), headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(
                f"SMS provider unreachable: {type(exc).__name__}", permanent=False
            ) from exc
        finally:
            conn.close()
        return self._result(response.status, response.getheader("Retry-After"), body)

    def _result(self, status: int, retry_after: str | None, body: bytes) -> SendResult:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if 200 <= status < 300 and data.get("sid"):
            return SendResult(provider_message_id=str(data["sid"])[:120])
        code = data.get("code", "")
        reason = f"SMS provider {status}" + (f" (error {code})" if code else "")
        if status == 429:
            wait: float | None
            try:
                wait = float(retry_after) if retry_after else None
            except ValueError:
                wait = None
            raise TransportError(reason, permanent=False, retry_after=wait)
        if status >= 500 or status in (408, 409):
            raise TransportError(reason, permanent=False)
        if 200 <= status < 300:
            raise TransportError(f"SMS provider {status}: no message id", permanent=False)
        raise TransportError(reason, permanent=True)
