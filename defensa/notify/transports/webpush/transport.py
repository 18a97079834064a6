"""The Web Push transport: one delivery goes to every device the person subscribed.

For each subscription without a PushSent row for this delivery: the payload (a small JSON
object: title, body, a path on our site, a tag) is encrypted to the device's keys (RFC 8291,
aes128gcm, through http-ece) and POSTed to the device's push service with a VAPID
`Authorization` (RFC 8292, through py-vapid), `TTL`, `Urgency` (from the delivery's priority:
dispatch and verification alerts are `high`) and a `Topic` derived from the idempotency key,
so a resend after a crash replaces the first message while it still waits at the push service.

Outcomes per device: 201 (or any 2xx) accepted, recorded at once as PushSent, so a retry
skips that device; 404/410 the subscription is gone: it is deleted, permanently; 429 and 5xx,
timeouts and dropped connections are transient (Retry-After respected); other 4xx permanent
for that device (413 payload too large, 400, 401/403 a VAPID key that is not the one the
device subscribed with). The delivery: transient if any device is; else sent if at least one
device (now or in an earlier attempt) took it; else failed for good.

The rate slot (WEBPUSH_RATE counts deliveries) is taken as late as possible: after the
subscriptions are read, the payload encrypted, the VAPID header signed and the connection to
the push service opened, right before the request; so the varying time that work takes can't
bunch two hand-overs closer than their slots (see ratelimit.py).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import ssl
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from defensa.notify.models import Priority
from defensa.notify.transports import (
    Outgoing,
    Rate,
    SendResult,
    Transport,
    TransportError,
    parse_rate,
)
from defensa.notify.transports.webpush import keys

if TYPE_CHECKING:
    from defensa.notify.messages import Rendered
    from defensa.notify.models import Delivery
    from defensa.notify.transports.webpush.models import PushSubscription

# Push services accept 4096 bytes of encrypted payload; ours stays far below.
MAX_BODY_CHARS = 600
_URL = re.compile(r"https?://[^\s<>\"']+")


def urgency(priority: int) -> str:
    """RFC 8030 Urgency: alerts wake the phone at once; broadcasts may wait for a good moment."""
    if priority >= Priority.URGENT:
        return "high"
    if priority <= Priority.BULK:
        return "low"
    return "normal"


def topic(idempotency_key: str) -> str:
    """RFC 8030 Topic (at most 32 base64url characters): the same delivery, the same topic."""
    return keys.b64url_encode(hashlib.sha256(idempotency_key.encode()).digest())[:32]


def is_generic(template: str) -> bool:
    chosen = {name.strip() for name in settings.WEBPUSH_GENERIC_TEMPLATES}
    return "*" in chosen or template in chosen


def our_path(body: str) -> str:
    """The first link to our own site in the text, as a path; else the person's own page.

    The service worker opens only paths on our origin, so a message can never make a
    notification open another site.
    """
    site = urlsplit(settings.SITE_URL)
    for match in _URL.finditer(body):
        url = urlsplit(match.group(0).rstrip(".,;:!?)]"))
        if (url.scheme, url.netloc) == (site.scheme, site.netloc) and url.path.startswith("/"):
            return url.path + (f"?{url.query}" if url.query else "")
    return reverse("accounts:home")


def payload(delivery: Delivery, message: Rendered) -> bytes:
    """What the device decrypts: title, body, the path to open, and a tag for deduplication."""
    title = settings.NETWORK_NAME
    body = " ".join(message.body.split())
    path = our_path(body)
    if is_generic(delivery.template):
        # Lock screens show notifications: for sensitive messages only a neutral line shows,
        # and the text is read on our page after the tap (and a sign-in, where it needs one).
        with translation.override(delivery.language):
            body = gettext("You have a new message. Open it to read it.")
    elif body.startswith(f"{title}: "):
        body = body[len(title) + 2 :]
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 1].rstrip() + "…"
    data = {"title": title, "body": body, "url": path, "tag": topic(delivery.idempotency_key)}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def encrypt(
    plaintext: bytes,
    p256dh: str,
    auth: str,
    *,
    sender: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """RFC 8291 aes128gcm: a fresh sender key and salt for every message and device.

    (`sender` and `salt` are fixed only by the test that checks RFC 8291's own example.)
    """
    import http_ece  # loaded only when push is used

    return bytes(
        http_ece.encrypt(
            plaintext,
            salt=salt,
            private_key=sender or ec.generate_private_key(ec.SECP256R1()),
            dh=keys.b64url_decode(p256dh),
            auth_secret=keys.b64url_decode(auth),
            version="aes128gcm",
        )
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (RFC 9110: a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


@dataclass
class DeviceResult:
    accepted: bool = False
    gone: bool = False
    transient: bool = False
    reason: str = ""
    retry_after: float | None = None


def classify(status: int, retry_after: str | None) -> DeviceResult:
    if 200 <= status < 300:
        return DeviceResult(accepted=True)
    reason = f"push service {status}"
    if status in (404, 410):
        return DeviceResult(gone=True, reason=f"{reason}: subscription gone, removed")
    if status == 429 or status >= 500 or status == 408:
        return DeviceResult(
            transient=True, reason=reason, retry_after=retry_after_seconds(retry_after)
        )
    return DeviceResult(reason=reason)


class WebPushTransport(Transport):
    kind: ClassVar[str] = "webpush"
    channels: ClassVar[tuple[str, ...]] = ("push",)

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(settings.WEBPUSH_VAPID_PRIVATE_KEY)

    # Everything a device's message needs is done first; the slot gates only the request.
    takes_own_slot: ClassVar[bool] = True

    @property
    def rate_key(self) -> str:
        return "webpush"

    @property
    def rate(self) -> Rate | None:
        return parse_rate(settings.WEBPUSH_RATE)

    def _post(
        self, subscription: PushSubscription, body: bytes, headers: dict[str, str], out: Outgoing
    ) -> DeviceResult:
        problem = keys.endpoint_problem(subscription.endpoint)
        if problem:
            return DeviceResult(reason="push service not allowed (WEBPUSH_ALLOWED_HOSTS)")
        parts = urlsplit(subscription.endpoint)
        timeout = settings.WEBPUSH_TIMEOUT
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname or "",
                parts.port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authorization = keys.authorization(subscription.endpoint)
        try:
            conn.connect()
            # The delivery's slot (once, at its first device): only the request itself is left.
            out.take_slot()
            conn.request(
                "POST", path, body=body, headers={**headers, "Authorization": authorization}
            )
            response = conn.getresponse()
            response.read(4096)
        except (OSError, http.client.HTTPException) as exc:
            return DeviceResult(
                transient=True, reason=f"push service unreachable: {type(exc).__name__}"
            )
        finally:
            conn.close()
        return classify(response.status, response.getheader("Retry-After"))

    def send(self, delivery: Delivery, out: Outgoing) -> SendResult:
        from defensa.notify.transports.webpush import actions
        from defensa.notify.transports.webpush.models import PushSent, PushSubscription

        if delivery.recipient_id is None:
            raise TransportError(gettext_noop("no address to send to"), permanent=True)
        devices = list(
            PushSubscription.objects.filter(user_id=delivery.recipient_id).order_by("pk")
        )
        if not devices:
            raise TransportError(gettext_noop("no device to send to"), permanent=True)
        took_before = set(
            PushSent.objects.filter(delivery=delivery).values_list("subscription_id", flat=True)
        )
        plaintext = payload(delivery, out.message)
        headers = {
            "TTL": str(settings.WEBPUSH_TTL),
            "Urgency": urgency(delivery.priority),
            "Topic": topic(delivery.idempotency_key),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
        accepted = len([d for d in devices if d.pk in took_before])
        failures: list[str] = []
        transient: list[DeviceResult] = []
        for device in devices:
            if device.pk in took_before:
                continue
            body = encrypt(plaintext, device.p256dh, device.auth)
            result = self._post(device, body, headers, out)
            if result.accepted:
                # At once, not with the attempt: a crash after this line resends to no one.
                PushSent.objects.get_or_create(delivery=delivery, subscription=device)
                accepted += 1
                continue
            if result.gone:
                actions.remove_gone_subscription(device)
            if result.transient:
                transient.append(result)
            failures.append(result.reason)
        summary = f"{accepted} of {len(devices)} devices took it"
        if transient:
            waits = [r.retry_after for r in transient if r.retry_after is not None]
            raise TransportError(
                f"{summary}; " + "; ".join(failures),
                permanent=False,
                retry_after=max(waits) if waits else None,
            )
        if accepted:
            return SendResult(provider_message_id=f"push:{accepted}/{len(devices)}")
        raise TransportError(f"{summary}; " + "; ".join(failures), permanent=True)
