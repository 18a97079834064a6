"""A background process says it is alive: one row per process, updated every few seconds."""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import close_old_connections, connection
from django.utils import timezone

from defensa.core.heartbeat.models import Heartbeat

log = logging.getLogger(__name__)

INTERVAL = 15.0  # seconds between beats; the health check allows four missed ones


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(kind: str, process: str | None = None) -> None:
    Heartbeat.objects.update_or_create(
        process=process or process_name(), defaults={"kind": kind, "beat_at": timezone.now()}
    )


class Beating:
    """Beat for `kind` from a daemon thread until stopped (use as a context manager).

    A failed beat (the database busy or briefly away) is logged and tried again at the next
    interval: a missing heartbeat is what the health check is for, never a crash."""

    def __init__(self, kind: str, interval: float = INTERVAL) -> None:
        self.kind = kind
        self.interval = interval
        self.process = process_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{kind}", daemon=True)

    def __enter__(self) -> Beating:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        try:
            while True:
                try:
                    close_old_connections()
                    beat(self.kind, self.process)
                except Exception:  # noqa: BLE001 - see the class docstring
                    log.warning("heartbeat for %s failed; trying again", self.kind, exc_info=True)
                if self._stop.wait(self.interval):
                    return
        finally:
            connection.close()
