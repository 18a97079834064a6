"""The provider's REST API for recordings: fetch the audio, then delete it there.

Same account, token and API base as the SMS transport (defensa/notify/transports/twilio).
The URL is built from our settings and the recording's id, never taken from the webhook, so a
webhook cannot make the server fetch an address of its choosing.
"""

from __future__ import annotations

import base64
import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from defensa.notify.transports.twilio import API_VERSION

# A two-minute MP3 at Twilio's 32 kbit/s is about 0.5 MB; anything far bigger is not ours.
MAX_BYTES = 8 * 1024 * 1024
FETCH_TIMEOUT = 10


class ProviderError(Exception):
    """The provider did not give or delete the recording; the message says why (no content)."""


@dataclass(frozen=True)
class Audio:
    data: bytes
    content_type: str


def _connection() -> http.client.HTTPConnection:
    parts = urlsplit(settings.TWILIO_API_BASE)
    timeout = min(settings.TWILIO_TIMEOUT, FETCH_TIMEOUT)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def _path(recording_sid: str, suffix: str) -> str:
    base = urlsplit(settings.TWILIO_API_BASE).path.rstrip("/")
    account = settings.TWILIO_ACCOUNT_SID
    return f"{base}/{API_VERSION}/Accounts/{account}/Recordings/{recording_sid}{suffix}"


def _request(method: str, path: str) -> tuple[int, str, bytes]:
    sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    conn = _connection()
    try:
        conn.request(method, path, headers={"Authorization": f"Basic {auth}"})
        response = conn.getresponse()
        length = int(response.getheader("Content-Length") or 0)
        if length > MAX_BYTES:
            raise ProviderError(f"recording too large ({length} bytes)")
        body = response.read(MAX_BYTES + 1)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ProviderError(f"provider unreachable: {type(exc).__name__}") from exc
    finally:
        conn.close()
    if len(body) > MAX_BYTES:
        raise ProviderError("recording too large")
    return response.status, (response.getheader("Content-Type") or ""), body


def fetch_recording(recording_sid: str) -> Audio:
    """The recording as MP3 (Twilio transcodes on request: the `.mp3` suffix)."""
    status, content_type, body = _request("GET", _path(recording_sid, ".mp3"))
    if status != 200 or not body:
        raise ProviderError(f"recording fetch answered {status}")
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ("audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav"):
        kind = "audio/mpeg"
    return Audio(body, "audio/mpeg" if kind == "audio/mp3" else kind)


def delete_recording(recording_sid: str) -> None:
    """Delete the recording at the provider (204; 404 means it is gone already)."""
    status, _type, _body = _request("DELETE", _path(recording_sid, ".json"))
    if status not in (204, 200, 404):
        raise ProviderError(f"recording delete answered {status}")
