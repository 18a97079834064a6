"""A JSON-RPC peer standing in for a signal-cli daemon (`daemon --http`): `POST /api/v1/rpc`.

It records every request it receives and answers `send` the way signal-cli does: the message's
timestamp, or (scripted) a per-recipient failure type, an error code, or an HTTP failure.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from defensa.testing.peers import LoopbackPeer, QuietHandler

ACCOUNT = "+12135550199"


@dataclass
class SignalPeer(LoopbackPeer):
    latency: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)  # every request body
    sent: list[tuple[str, str, float]] = field(default_factory=list)  # (recipient, text, at)
    _script: list[tuple[int, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.body()
                try:
                    request = json.loads(raw)
                except ValueError:
                    request = raw.decode("utf-8", "replace")
                status, body = peer.handle(self.path, request, self.arrived)
                data = b"" if body is None else json.dumps(body).encode()
                self.reply(status, data, content_type="application/json")

        return Handler

    def fail_next(self, recipient_type: str, *, retry_after: int | None = None) -> None:
        """Answer the next send as signal-cli does when its only recipient failed."""
        result: dict[str, Any] = {
            "recipientAddress": {"uuid": None, "number": "+1"},
            "type": recipient_type,
        }
        if retry_after is not None:
            result["retryAfterSeconds"] = retry_after
        codes = {"IDENTITY_FAILURE": -4, "RATE_LIMIT_FAILURE": -5}
        error = {
            "code": codes.get(recipient_type, -1),
            "message": "Failed to send message",
            "data": {"response": {"timestamp": 1, "results": [result]}},
        }
        with self._lock:
            self._script.append((200, {"error": error}))

    def error_next(self, code: int, message: str = "scripted") -> None:
        with self._lock:
            self._script.append((200, {"error": {"code": code, "message": message, "data": None}}))

    def http_next(self, status: int) -> None:
        with self._lock:
            self._script.append((status, None))

    def handle(self, path: str, request: Any, arrived: float = 0.0) -> tuple[int, Any]:
        """`arrived`: when the request reached this machine (`QuietHandler.arrived`); else
        the time it is handled."""
        if path != "/api/v1/rpc":
            return 404, None
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.received.append(request if isinstance(request, dict) else {"raw": request})
            if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
                return 200, {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32600, "message": "invalid request"},
                }
            rid = request.get("id")
            if self._script:
                status, body = self._script.pop(0)
                return status, (None if body is None else {"jsonrpc": "2.0", "id": rid, **body})
            params = request.get("params") or {}
            if request.get("method") != "send":
                return 200, {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {"code": -32601, "message": "Method not implemented"},
                }
            if params.get("account") != ACCOUNT:
                return 200, {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {"code": -32602, "message": "Specified account does not exist"},
                }
            recipients = params.get("recipient")
            recipients = recipients if isinstance(recipients, list) else [recipients]
            now = arrived or time.time()
            stamp = int(now * 1000) + len(self.sent)
            for number in recipients:
                self.sent.append((str(number), str(params.get("message", "")), now))
            results = [
                {"recipientAddress": {"uuid": "u", "number": n}, "type": "SUCCESS"}
                for n in recipients
            ]
            return 200, {
                "jsonrpc": "2.0",
                "id": rid,
                "result": {"timestamp": stamp, "results": results},
            }
