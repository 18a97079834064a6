"""A small local HTTP server speaking the SMS Gateway for Android local-server API subset that
Defensa uses: `POST /message` with basic auth, answered 202 with the message id.

Configurable latency and scripted failures (any status, optionally a per-recipient "Failed"
state); a repeated message id is the same message, not a second one (as Defensa's ids are
stable per delivery). It records every accepted message with its arrival time, and builds the
webhooks the phone would send back, signed the way the app signs them.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from defensa.notify.transports.gateway import signature
from defensa.testing.peers import LoopbackPeer, QuietHandler

USERNAME = "sms"
PASSWORD = "peer-gateway-password"  # noqa: S105
WEBHOOK_TOKEN = "peer-webhook-token-0123456789abcdefghijklmnop"  # noqa: S105
SIGNING_KEY = "peer-signing-key-not-secret"


@dataclass
class GatewaySMS:
    id: str
    to: str
    body: str
    priority: int
    at: float


@dataclass
class GatewayPeer(LoopbackPeer):
    latency: float = 0.0
    messages: list[GatewaySMS] = field(default_factory=list)
    requests: int = 0
    _script: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                try:
                    payload = json.loads(self.body())
                except ValueError:
                    payload = None
                status, body, headers = peer.handle(
                    self.path, self.headers.get("Authorization", ""), payload, self.arrived
                )
                data = json.dumps(body).encode()
                self.reply(status, data, content_type="application/json", headers=headers)

        return Handler

    def fail_next(self, status: int, *, message: str = "", retry_after: str = "") -> None:
        body: dict[str, Any] = {"message": message or "scripted failure"}
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._lock:
            self._script.append((status, body, headers))

    def refuse_recipient_next(self, error: str) -> None:
        """Accept the request but report the recipient failed at once (202, state Failed)."""
        with self._lock:
            self._script.append(
                (
                    202,
                    {
                        "id": "x" * 21,
                        "state": "Failed",
                        "recipients": [{"phoneNumber": "", "state": "Failed", "error": error}],
                    },
                    {},
                )
            )

    def handle(
        self, path: str, auth: str, payload: Any, arrived: float = 0.0
    ) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
        """`arrived`: when the request reached this machine (`QuietHandler.arrived`); else
        the time it is handled."""
        if path != "/message":
            return 404, {"message": "not found"}, {}
        expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, {"message": "Unauthorized"}, {}
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.requests += 1
            if self._script:
                return self._script.pop(0)
            if not isinstance(payload, dict):
                return 400, {"message": "bad request"}, {}
            numbers = payload.get("phoneNumbers")
            text = payload.get("message")
            if (
                not isinstance(numbers, list)
                or not numbers
                or not isinstance(text, str)
                or not text
            ):
                return 400, {"message": "phoneNumbers is empty"}, {}
            if not all(isinstance(n, str) and n.startswith("+") for n in numbers):
                return 400, {"message": "Invalid phone number"}, {}
            mid = str(payload.get("id") or f"peer{len(self.messages):017d}")
            if all(m.id != mid for m in self.messages):
                self.messages.append(
                    GatewaySMS(
                        mid,
                        numbers[0],
                        text,
                        int(payload.get("priority") or 0),
                        arrived or time.time(),
                    )
                )
            return (
                202,
                {
                    "id": mid,
                    "state": "Pending",
                    "recipients": [
                        {"phoneNumber": n, "state": "Pending", "error": None} for n in numbers
                    ],
                },
                {},
            )

    def webhook(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        event_id: str = "Ey6ECgOkVVFjz3CL48B8C",
        key: str = SIGNING_KEY,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers the phone would POST for `event` (Django test-client style)."""
        body = json.dumps(
            {
                "deviceId": "ffffffffceb0b1db0000018e937c815b",
                "event": event,
                "id": event_id,
                "payload": payload,
                "webhookId": "wh-1",
            }
        ).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return body, {
            "HTTP_X_SIGNATURE": signature(key, body, stamp),
            "HTTP_X_TIMESTAMP": stamp,
        }
