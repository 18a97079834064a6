"""Loopback peers: small HTTP servers on 127.0.0.1 speaking a provider's protocol.

Twilio's Messages API (`twilio`), an SMS gateway phone (`gateway`), a signal-cli daemon
(`signal`), a Web Push service with its devices (`webpush`) and Twilio Voice (`voice`). Tests
and benchmarks use them instead of patching our code: the transport really speaks HTTP.
No pytest import here (benchmarks run without it); the fixtures wrap these in conftest.py.

    peer = TwilioPeer()
    with peer.running():          # a free loopback port; peer.base_url points at it
        ...
    server = peer.serve(port)     # or serve until server.shutdown()
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

HOST = "127.0.0.1"

# Linux's SO_TIMESTAMPNS; Python's socket module does not name it.
_TIMESTAMP_NS = getattr(socket, "SO_TIMESTAMPNS", 35)


def stamp_arrivals(sock: socket.socket) -> None:
    """Ask the kernel to stamp each packet this socket receives with its arrival time."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, _TIMESTAMP_NS, 1)


def arrival(sock: socket.socket) -> float:
    """When the next unread bytes reached this machine (waits for them; reads nothing).

    A peer stands in for a provider on another machine, but its handler threads share the
    test's (busy) process: when a thread got round to a request is not when it arrived, and a
    rate judged by the thread's clock sees sends bunched that were spaced. The kernel's
    receive time (after `stamp_arrivals`) is the provider's view; the handler's time is the
    fallback where the kernel gives none."""
    try:
        _data, ancillary, _flags, _addr = sock.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
    except OSError:
        return time.time()
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == _TIMESTAMP_NS:
            seconds, nanos = struct.unpack("qq", value[:16])
            return seconds + nanos / 1e9
    return time.time()


class QuietHandler(BaseHTTPRequestHandler):
    """A peer's request handler: reads a body, writes an answer, keeps no request log.

    `arrived` is when the request reached this machine (see `arrival`). Peers answer HTTP/1.0,
    one request a connection; were a connection kept alive, its later requests (perhaps
    already in the read buffer) take the handler's time instead of waiting on the socket."""

    arrived = 0.0
    _requests_read = 0

    def setup(self) -> None:
        super().setup()
        stamp_arrivals(self.connection)

    def handle_one_request(self) -> None:
        first = self._requests_read == 0
        self._requests_read += 1
        self.arrived = arrival(self.connection) if first else time.time()
        super().handle_one_request()

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(
        self,
        status: int,
        data: bytes = b"",
        *,
        content_type: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # quiet: no request log


@dataclass
class LoopbackPeer:
    """A peer's state; `handler()` makes the request handler class that serves it."""

    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def serve(
        self, port: int = 0, handler: type[BaseHTTPRequestHandler] | None = None
    ) -> ThreadingHTTPServer:
        """Serve on loopback (a free port unless given) from a daemon thread until shutdown.

        `handler`: a subclass of `self.handler()` (a benchmark stamps arrival times)."""
        server = ThreadingHTTPServer((HOST, port), handler or self.handler())
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        """Serve on a free loopback port while the block runs."""
        server = self.serve()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
