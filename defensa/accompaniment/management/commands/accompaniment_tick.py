"""Send accompaniment reminders and escalate missing check-ins; run it every minute or loop."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from defensa.accompaniment.actions import escalate_missed, send_reminders


class Command(BaseCommand):
    help = (
        "Remind confirmed companions (24 h and 2 h before) and tell the legal team, once, "
        "about appointments nobody checked out of."
    )

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
            # Only a flag: a pass in progress finishes its transactions, then the loop ends.
            nonlocal stopping
            stopping = True

        if every > 0:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        while True:
            reminded = send_reminders()
            escalated = escalate_missed()
            if options.get("verbosity", 1) > 1 or reminded or escalated:
                self.stdout.write(f"reminded {reminded}, escalated {escalated}")
            if every <= 0:
                return
            deadline = time.monotonic() + every
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.2)
            if stopping:
                return
