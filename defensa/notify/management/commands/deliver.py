"""`python manage.py deliver`: the delivery worker (see docs/channels.md for why not db_worker)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from defensa.core.heartbeat.beat import Beating
from defensa.notify.worker import Worker


class Command(BaseCommand):
    help = "Send queued messages (email, SMS, ...) until stopped; SIGTERM stops it gracefully."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Send everything due now, then exit."
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Concurrent sends in this process (default NOTIFY_WORKER_THREADS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        threads = options["threads"] or settings.NOTIFY_WORKER_THREADS
        worker = Worker(threads=threads, once=options["once"])

        def stop(signum: int, frame: FrameType | None) -> None:
            # Finish the sends in flight, record them, then exit: nothing is left 'sending'.
            worker.request_stop()

        if not options["once"]:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        if options["verbosity"] > 0:
            # A line others can wait for: signal handlers are in place, the worker is polling.
            self.stdout.write(f"deliver: started, up to {threads} sends at once")
            self.stdout.flush()
        if options["once"]:
            worker.run()
        else:
            # The health check (defensa/ops) reads this process's beats.
            with Beating("deliver"):
                worker.run()
        if options["verbosity"] > 0:
            self.stdout.write(f"deliver: {worker.handled} deliveries handled")
