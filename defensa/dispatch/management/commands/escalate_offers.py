"""Widen verification offers that too few accepted in time; run it every minute or loop."""

from __future__ import annotations

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
        while True:
            widened = escalate_offers()
            if options.get("verbosity", 1) > 1 or widened:
                self.stdout.write(f"widened {widened} round(s)")
            if every <= 0:
                return
            time.sleep(every)
