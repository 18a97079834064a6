"""A small local HTTP server speaking the subset of Twilio's Messages API that Defensa uses.

Configurable latency, a rate limit (429 with Retry-After above it), scripted failures (500,
429, 400 with a Twilio error code) and deduplication on the Idempotency-Key header. It records
every accepted message with its arrival time, and signs requests the way Twilio signs webhooks.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from defensa.testing.peers import LoopbackPeer, QuietHandler

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "peer-auth-token-not-secret"  # noqa: S105
FROM_NUMBER = "+15005550006"


@dataclass
class SentSMS:
    to: str
    body: str
    sid: str
    status_callback: str
    at: float


@dataclass
class TwilioPeer(LoopbackPeer):
    latency: float = 0.0
    rate_per_second: int = 0  # at most this many accepted in any second; 0: no limit
    messages: list[SentSMS] = field(default_factory=list)
    requests: int = 0
    # Every request that reached the send step, per Idempotency-Key (a resend shows as 2+).
    requests_by_key: dict[str, int] = field(default_factory=dict)
    _script: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _seen_keys: dict[str, str] = field(default_factory=dict)
    _accepted_at: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.body().decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                status, body, headers = peer.handle(
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Idempotency-Key", ""),
                    form,
                    self.arrived,
                )
                data = json.dumps(body).encode()
                self.reply(status, data, content_type="application/json", headers=headers)

        return Handler

    def fail_next(self, status: int, *, code: int = 0, retry_after: str = "") -> None:
        body: dict[str, Any] = {"status": status, "message": "scripted failure"}
        if code:
            body["code"] = code
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._lock:
            self._script.append((status, body, headers))

    def handle(
        self, path: str, auth: str, key: str, form: dict[str, str], arrived: float = 0.0
    ) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
        """`arrived`: when the request reached this machine (`QuietHandler.arrived`); else
        the time it is handled."""
        if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return 404, {"status": 404}, {}
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, {"status": 401, "code": 20003}, {}
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.requests += 1
            if key:
                self.requests_by_key[key] = self.requests_by_key.get(key, 0) + 1
            if self._script:
                return self._script.pop(0)
            if key and key in self._seen_keys:
                # Same request again: the same message, not a second one.
                return 201, {"sid": self._seen_keys[key], "status": "queued"}, {}
            now = arrived or time.time()
            recent = [t for t in self._accepted_at if t > now - 1.0]
            if self.rate_per_second and len(recent) >= self.rate_per_second:
                # Over the rate in the last second: refuse, as a provider's limiter would.
                return 429, {"status": 429, "code": 20429}, {"Retry-After": "1"}
            if not form.get("To", "").startswith("+"):
                return 400, {"status": 400, "code": 21211, "message": "invalid To"}, {}
            sid = f"SM{len(self.messages):032d}"
            self._accepted_at.append(now)
            self.messages.append(
                SentSMS(form["To"], form.get("Body", ""), sid, form.get("StatusCallback", ""), now)
            )
            if key:
                self._seen_keys[key] = sid
            return 201, {"sid": sid, "status": "queued"}, {}
