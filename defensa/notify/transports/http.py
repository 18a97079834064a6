"""One JSON POST over HTTP(S) for transports that talk to a small HTTP API (gateway, Signal).

The connection is opened first and the send's rate slot taken right before the request, so
connection set-up time does not bunch sends together (see ratelimit.py). A connection that
fails, times out or drops is a transient TransportError; what the reply means is the caller's
business.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from defensa.notify.transports import Outgoing, TransportError


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The parsed body, or None if it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def _connection(base_url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def post_json(
    base_url: str,
    path: str,
    payload: Any,
    *,
    headers: dict[str, str],
    timeout: float,
    out: Outgoing | None,
    who: str,
) -> Reply:
    """POST `payload` as JSON to base_url's path + `path`; `who` names the peer in errors."""
    prefix = urlsplit(base_url).path.rstrip("/")
    body = json.dumps(payload, ensure_ascii=False).encode()
    conn = _connection(base_url, timeout)
    try:
        conn.connect()
        if out is not None:
            out.take_slot()
        conn.request(
            "POST",
            prefix + path,
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                **headers,
            },
        )
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(f"{who} unreachable: {type(exc).__name__}", permanent=False) from exc
    finally:
        conn.close()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)


def retry_after(value: str) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86400 else None
