"""The axe watch itself: a page with a violation is reported, with JavaScript on and off."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from defensa.testing import axe

BAD = b"<!doctype html><title>t</title><main><img src='x.png'><input></main>"
GOOD = b"<!doctype html><html lang='en'><title>t</title><main><h1>Fine</h1></main></html>"


class Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = BAD if self.path == "/bad" else GOOD
        self.send_response(200 if self.path in ("/bad", "/good") else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[str]:
    """Two pages on loopback: /good passes axe, /bad does not."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False])
def test_a_violation_is_found_and_a_clean_page_is_not(browser, pages, javascript) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{pages}/good")
    page.goto(f"{pages}/bad")
    context.close()  # with JavaScript off, both pages are opened again and checked
    found = {url: {v["id"] for v in violations} for url, violations in axe.WATCH.found}
    checked = set(axe.WATCH.checked)
    axe.WATCH.reset()  # this test's violations are on purpose
    assert checked == {f"{pages}/good", f"{pages}/bad"}
    assert set(found) == {f"{pages}/bad"}
    assert {"image-alt", "html-has-lang"} <= found[f"{pages}/bad"]
