"""Tell the legal team, once, about each overdue case task; run it every minute or loop."""

from __future__ import annotations

import datetime as dt
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from defensa.cases.actions import escalate_case_tasks


def _instant(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(
            "--now takes an ISO 8601 time with its offset, e.g. 2026-03-01T09:00+00:00"
        )
    return parsed


class Command(BaseCommand):
    help = "Escalate overdue case tasks (the 48-hour attorney consultation) to the legal team."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="Keep running, one pass every this many seconds (0: one pass and exit).",
        )
        parser.add_argument(
            "--now",
            type=str,
            default="",
            help="Pretend it is this time (ISO 8601 with offset): for tests and drills.",
        )

    def handle(self, *args: Any, every: int = 0, now: str = "", **options: Any) -> None:
        at = _instant(now) if now else None
        stopping = False

        def request_stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        if every > 0:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        while True:
            escalated = escalate_case_tasks(now=at)
            if options.get("verbosity", 1) > 1 or escalated:
                self.stdout.write(f"escalated {escalated} overdue task(s)")
            if every <= 0:
                return
            deadline = time.monotonic() + every
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.2)
            if stopping:
                return
