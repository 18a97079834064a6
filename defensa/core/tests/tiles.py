"""A tile server on loopback for map tests: answers every /{z}/{x}/{y}.png with a grey tile."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image


def _tile() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (220, 220, 220)).save(buffer, "PNG")
    return buffer.getvalue()


class TileServer(ThreadingHTTPServer):
    daemon_threads = True
    requested: list[str]
    png: bytes


class _Handler(BaseHTTPRequestHandler):
    server: TileServer

    def do_GET(self) -> None:  # noqa: N802
        self.server.requested.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.server.png)))
        self.end_headers()
        self.wfile.write(self.server.png)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def tile_server(settings) -> Iterator[TileServer]:  # type: ignore[no-untyped-def]
    """Serve tiles on a free loopback port and configure the map to use them."""
    server = TileServer(("127.0.0.1", 0), _Handler)
    server.requested = []
    server.png = _tile()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MAP_TILE_URL = f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
    settings.MAP_TILE_ATTRIBUTION = "Test tiles"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
