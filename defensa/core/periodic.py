"""Long-lived housekeeping loops: "run every N seconds until SIGTERM", written once.

Used by `manage.py run_periodically` and the `--every SECONDS` option of commands such as
`purge_expired` and `escalate_offers` (scripts/serve runs them). SIGINT or SIGTERM (Ctrl-C,
or scripts/serve stopping) only sets a flag: a pass in progress finishes its transaction,
then the loop ends.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

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
