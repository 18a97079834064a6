"""Widen verification offers that too few accepted in time; run it every minute or loop."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from defensa.dispatch.actions import escalate_offers


class Command(BaseCommand):
    help = "Expire stale offers and widen rounds that too few verifiers accepted in time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="Keep running, one pass every this many seconds (0: one pass and exit).",
        )

    def handle(self, *args: Any, every: int = 0, **options: Any) -> None:
        stopping = False

        def request_stop(signum: int, frame: Any) -> None:
            # Only a flag: a pass in progress finishes its transaction, then the loop ends.
            nonlocal stopping
            stopping = True

        if every > 0:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        while True:
            widened = escalate_offers()
            if options.get("verbosity", 1) > 1 or widened:
                self.stdout.write(f"widened {widened} round(s)")
            if every <= 0:
                return
            deadline = time.monotonic() + every
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.2)
            if stopping:
                return
