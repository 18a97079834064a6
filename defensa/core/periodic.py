"""Long-lived housekeeping loops: "run every N seconds until SIGTERM", written once.

Used by `manage.py run_periodically` and by `PeriodicCommand`, the base of the commands with
an `--every SECONDS` option (`purge_expired`, `escalate_offers`, `escalate_case_tasks`,
`accompaniment_tick`; scripts/serve runs them). SIGINT or SIGTERM (Ctrl-C, or scripts/serve
stopping) only sets a flag: a pass in progress finishes its transaction, then the loop ends.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# How often a waiting loop looks at the stop flag: a stop is noticed within this long.
_TICK = 0.2


class StopSignal:
    """Catches SIGTERM and SIGINT (in the main thread, where Python runs signal handlers)."""

    def __init__(self) -> None:
        self.stopping = False
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)

    def _request_stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def wait_until(self, deadline: float) -> bool:
        """Sleep until time.monotonic() reaches deadline; False if a stop came first."""
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(_TICK)
        return not self.stopping


def run_every(seconds: int, one_pass: Callable[[], object]) -> None:
    """One pass; with seconds > 0, then `seconds` of rest and another pass, until stopped.

    A pass that raises ends the loop: catch inside `one_pass` what should only be reported.
    """
    if seconds <= 0:
        one_pass()
        return
    stop = StopSignal()
    while True:
        one_pass()
        if not stop.wait_until(time.monotonic() + seconds):
            return


class PeriodicCommand(BaseCommand):
    """A management command that makes one pass, or with `--every SECONDS` one pass every
    SECONDS until stopped (scripts/serve runs such commands in loops).

    Subclasses write `one_pass(**options)`; those with options of their own add them in
    `add_arguments` after calling this one's. During a pass `self.every` says whether it
    runs in a loop (> 0).
    """

    every = 0
    verbosity = 1

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="Keep running, one pass every this many seconds (0: one pass and exit).",
        )

    def handle(self, *args: Any, every: int = 0, **options: Any) -> None:
        self.every = every
        self.verbosity = options.get("verbosity", 1)
        run_every(every, lambda: self.one_pass(**options))

    def one_pass(self, **options: Any) -> None:
        raise NotImplementedError

    def say(self, text: str, *, news: bool) -> None:
        """Write a pass's summary when it did something, or always at verbosity 2 and up."""
        if news or self.verbosity > 1:
            self.stdout.write(text)
