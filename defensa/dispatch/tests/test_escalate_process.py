"""`escalate_offers --every N` runs beside the web server in `make run`; Ctrl-C must stop it."""

from __future__ import annotations

import signal
import subprocess
import time

from defensa.notify.tests.procs import PY, REPO, workers

__all__ = ["workers"]


def test_the_escalation_loop_stops_cleanly_on_ctrl_c_and_sigterm(workers):
    proc = subprocess.Popen(
        [PY, "manage.py", "escalate_offers", "--every", "1", "--verbosity", "2"],
        cwd=REPO,
        env=workers.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The first pass has run (and printed) once the loop is in place.
        deadline = time.monotonic() + 60
        line = ""
        while "widened" not in line:
            assert time.monotonic() < deadline, "escalate_offers never ran a pass"
            line = proc.stdout.readline()  # type: ignore[union-attr]
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
