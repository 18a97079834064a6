"""The pledge campaigns' periodic pass; run it every minute or loop with --every."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from defensa.core.periodic import run_every
from defensa.pledges.actions import close_expired


class Command(BaseCommand):
    help = (
        "Flip campaigns that reached their threshold, fail those past their deadline "
        "(shredding who pledged) and shred identities kept IDENTITY_RETENTION after success."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="Keep running, one pass every this many seconds (0: one pass and exit).",
        )

    def handle(self, *args: Any, every: int = 0, **options: Any) -> None:
        def one_pass() -> None:
            done = close_expired()
            if options.get("verbosity", 1) > 1 or any(done.values()):
                self.stdout.write(", ".join(f"{what} {n}" for what, n in done.items()))

        run_every(every, one_pass)
