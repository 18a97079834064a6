"""A real SMTP server on loopback for tests (aiosmtpd), usable from any app's tests.

from defensa.notify.testing import smtp_server  # a pytest fixture; import it in conftest

def test_x(smtp_server):
    smtp_server.fail_next(451)    # next RCPT gets 451 (transient); 550 is permanent
    ...
    assert smtp_server.messages[0]["To"] == "ana@example.org"
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass
class Received:
    message: EmailMessage
    rcpt: list[str]
    at: float  # time.time() when the server accepted the data

    def __getitem__(self, header: str) -> Any:
        return self.message[header]

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


@dataclass
class SMTPPeer:
    """What the server saw, and what it will answer next."""

    port: int = 0
    delay: float = 0.0  # seconds before answering DATA (a slow provider)
    data_started: int = 0
    messages: list[Received] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, code: int, times: int = 1) -> None:
        """Refuse the next `times` recipients with `code` (451 transient, 550 permanent)."""
        with self._lock:
            self._failures.extend([code] * times)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)

    # aiosmtpd handler hooks (called on the server's event loop thread).
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        with self._lock:
            code = self._failures.pop(0) if self._failures else 0
        if code:
            return f"{code} {'4.3.0 try again later' if code < 500 else '5.1.1 no such mailbox'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        arrived = time.time()
        self.data_started += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(Received(msg, list(envelope.rcpt_tos), arrived))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPPeer]:
    """Start aiosmtpd on a free loopback port and point the email transport at it."""
    peer = SMTPPeer()
    controller = Controller(peer, hostname=HOST, port=free_port())
    controller.start()
    peer.port = controller.port
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "alerts@defensa.test"
    # Only the real SMTP path: a console fallback would hide a broken email transport.
    settings.NOTIFY_CONSOLE = False
    try:
        yield peer
    finally:
        controller.stop()
