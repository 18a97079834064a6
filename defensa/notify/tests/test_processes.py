"""Several real worker processes: shared rate limits, priorities, SIGTERM and SIGKILL."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import Counter

from defensa.notify.models import Priority
from defensa.notify.tests.procs import stop, wait_until, workers
from defensa.notify.tests.test_worker import windows_over
from defensa.notify.transports import Rate

__all__ = ["workers"]


def handled(output: str) -> int:
    match = re.search(r"deliver: (\d+) deliveries handled", output)
    assert match, output
    return int(match.group(1))


def test_two_worker_processes_share_the_rate_and_never_exceed_it(workers, smtp_server):
    rate = Rate(20, 1.0)
    workers.seed("burst", 40, Priority.BULK)

    procs = [workers.start("--once", "--threads", "3", EMAIL_RATE="20/s") for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = [handled(out) for out, _err in outputs]
    assert sum(counts) == 40
    # Both processes sent: the limit held across processes, not just threads.
    assert min(counts) > 0, counts
    times = [m.at for m in smtp_server.messages]
    rcpts = Counter(m.rcpt[0] for m in smtp_server.messages)
    assert len(rcpts) == 40 and set(rcpts.values()) == {1}  # none lost, none twice
    gaps = sorted(b - a for a, b in zip(sorted(times), sorted(times)[1:], strict=False))
    assert windows_over(times, rate) <= rate.count, gaps[:5]
    assert max(times) - min(times) >= 1.5  # 40 sends at 20/s span ~2 s: the limit was hit
    assert {d["status"] for d in workers.report()} == {"sent"}


def test_an_urgent_alert_overtakes_a_long_bulk_queue_then_sigterm_is_graceful(workers, smtp_server):
    workers.seed("bulk", 80, Priority.BULK)
    proc = workers.start("--threads", "2", EMAIL_RATE="10/s")
    try:
        wait_until(lambda: len(smtp_server.messages) >= 3)
        committed = workers.seed("alert", 1, Priority.URGENT)
        wait_until(lambda: any(m.rcpt == ["alert0@example.org"] for m in smtp_server.messages))
        output = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    after = [m.rcpt[0] for m in smtp_server.messages if m.at >= committed]
    # Only sends already holding a slot (one per thread) may go before it.
    assert "alert0@example.org" in after[:3], after[:10]
    report = workers.report()
    # SIGTERM let the sends in flight finish: nothing is left half-done.
    assert "sending" not in {d["status"] for d in report}
    assert len(report) == 81


def test_a_worker_killed_mid_send_loses_nothing(workers, smtp_server):
    smtp_server.delay = 1.0  # a slow provider: the kill lands while the send is in flight
    workers.seed("kill", 1, Priority.URGENT)
    proc = workers.start("--threads", "1", NOTIFY_LEASE_SECONDS="1")
    wait_until(lambda: smtp_server.data_started >= 1)
    stop(proc, signal.SIGKILL)
    [row] = workers.report()
    assert row["status"] == "sending"  # the dead worker's claim

    time.sleep(1.1)  # the lease runs out
    smtp_server.delay = 0.0
    restarted = workers.start("--once", "--threads", "1")
    out, err = restarted.communicate(timeout=30)
    assert restarted.returncode == 0, err

    [row] = workers.report()
    assert row["status"] == "sent"
    assert row["log"] == ["abandoned", "sent"]
    # At-least-once: the killed send may also have arrived. If so, it is the same message
    # (same Message-ID), which mail systems can fold into one.
    ids = {m["Message-ID"] for m in smtp_server.wait_for(1)}
    assert len(ids) == 1
    assert 1 <= len(smtp_server.messages) <= 2


def test_ctrl_c_then_sigterm_stops_a_running_worker(workers, smtp_server):
    """Ctrl-C reaches every process of `make run`, and scripts/serve then sends SIGTERM too.

    Two signals close together used to deadlock the worker inside Event.set().
    """
    workers.seed("ready", 1, Priority.URGENT)
    proc = workers.start("--threads", "4")
    try:
        # A delivered message proves the worker is up, signal handlers installed, and polling.
        wait_until(lambda: len(smtp_server.messages) >= 1, timeout=60)
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert handled(out) == 1


def test_the_signal_handler_path_takes_no_lock():
    """A handler runs between two bytecodes of the main thread, even inside Event.set().

    Hold the event's lock as if the main thread were inside Event.set(): asking the worker to
    stop must still return at once.
    """
    from defensa.notify.worker import Worker

    worker = Worker(threads=2)
    with worker.stopping._cond:  # type: ignore[attr-defined]
        asker = threading.Thread(target=worker.request_stop, daemon=True)
        asker.start()
        asker.join(timeout=2)
        assert not asker.is_alive(), "request_stop() blocked on the event's lock"
    assert worker.stop_requested
