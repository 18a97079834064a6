"""The loopback peers judge time as a provider on another machine would."""

from __future__ import annotations

import http.client
import threading
import time

from defensa.testing.peers import HOST
from defensa.testing.peers.twilio import TwilioPeer


def test_a_request_is_stamped_when_it_arrived_not_when_a_thread_got_to_it():
    # A busy test process can leave a request unread for a while; the peer must judge its
    # rate by when the request reached the machine (the kernel's stamp), not by then.
    peer = TwilioPeer()
    ready = threading.Event()
    handled: list[tuple[float, float]] = []

    class Late(peer.handler()):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            ready.set()
            time.sleep(0.5)  # the thread is busy; the request waits in the socket

        def do_POST(self) -> None:  # noqa: N802
            handled.append((self.arrived, time.time()))
            super().do_POST()

    server = peer.serve(handler=Late)
    try:
        connection = http.client.HTTPConnection(HOST, peer.port, timeout=5)
        connection.connect()
        assert ready.wait(5)
        sent = time.time()
        connection.request("POST", "/nowhere", body=b"x")
        assert connection.getresponse().status == 404
        connection.close()
    finally:
        server.shutdown()
        server.server_close()

    [(arrived, read)] = handled
    assert abs(arrived - sent) < 0.2
    assert read - arrived >= 0.3
