"""Widen verification offers that too few accepted in time, and tell dispatchers about
incidents nobody has placed; run it every minute or loop."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from defensa.core.periodic import run_every
from defensa.dispatch.actions import alert_unplaced, escalate_offers


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
        def one_pass() -> None:
            widened = escalate_offers()
            if options.get("verbosity", 1) > 1 or widened:
                self.stdout.write(f"widened {widened} round(s)")
            unplaced = alert_unplaced()
            if options.get("verbosity", 1) > 1 or unplaced:
                self.stdout.write(f"told dispatchers about {unplaced} incident(s) without a place")

        run_every(every, one_pass)
