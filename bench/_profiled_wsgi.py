"""The real WSGI application under a CPU-weighted sampling profiler: a harness tool only.

`BENCH_PROFILE_DIR=/some/dir python -m bench intake_surge --quick` makes the benchmark's
gunicorn load this module instead of `defensa.wsgi`. From the first POST on, a thread in each
worker looks at every other thread every 2 ms: the CPU that thread used since the last look
(its own CPU clock, so waiting for the interpreter lock, a core or SQLite's lock counts
nothing) is given to the stack it is in now. Every 2 s it writes DIR/PID.json. Read them with
`python -m bench._profiled_wsgi DIR [N]`: the N costliest functions by inclusive and by own
CPU, summed over the workers, as shares of all the CPU seen.

Sampling costs little (unlike cProfile, which slowed a post three times here); a function
that runs often and briefly is seen in proportion to its CPU.

It also times SQLite's writers' queue (defensa/core/sqlite): for every write, the wait for
the queue, the hold (queue taken to queue let go: the write lock's hold, as the queue is
taken just before BEGIN IMMEDIATE) and the holding thread's own CPU meanwhile. The report
prints their means and percentiles: a hold much longer than its CPU is time the holder spent
waiting for the interpreter lock or a core while every other writer waited for it.
`BENCH_PROFILE_SAMPLE=0` times the holds without sampling stacks (the sampler's thread takes
the interpreter lock every 2 ms, which lengthens the holds it would measure).
"""

from __future__ import annotations

import collections
import json
import os
import sys
import threading
import time
from pathlib import Path

from defensa.wsgi import application as _application

_DIR = Path(os.environ.get("BENCH_PROFILE_DIR", "."))
_SAMPLE = os.environ.get("BENCH_PROFILE_SAMPLE", "1") != "0"
_started = threading.Event()
# (queue wait, hold, holder's CPU during the hold), seconds, per write of this process.
_holds: list[tuple[float, float, float]] = []
_holding = threading.local()
_holders: set[int] = set()  # threads holding the writers' queue now


def _time_the_writers_queue() -> None:
    from defensa.core.sqlite.base import DatabaseWrapper

    enter, leave = DatabaseWrapper._enter_writers_queue, DatabaseWrapper._leave_writers_queue

    def timed_enter(self) -> None:  # type: ignore[no-untyped-def]
        asked = time.perf_counter()
        enter(self)
        if self._in_queue:
            _holding.at = (asked, time.perf_counter(), time.thread_time())
            _holders.add(threading.get_ident())

    def timed_leave(self) -> None:  # type: ignore[no-untyped-def]
        was = self._in_queue
        leave(self)
        _holders.discard(threading.get_ident())
        at = getattr(_holding, "at", None)
        if was and at is not None and _started.is_set():
            asked, got, cpu = at
            _holds.append((got - asked, time.perf_counter() - got, time.thread_time() - cpu))
        _holding.at = None

    DatabaseWrapper._enter_writers_queue = timed_enter  # type: ignore[method-assign]
    DatabaseWrapper._leave_writers_queue = timed_leave  # type: ignore[method-assign]


_time_the_writers_queue()


def application(environ, start_response):  # type: ignore[no-untyped-def]
    if environ.get("REQUEST_METHOD") == "POST" and not _started.is_set():
        _started.set()
        threading.Thread(target=_sample, daemon=True).start()
    return _application(environ, start_response)


def _where(code) -> str:  # type: ignore[no-untyped-def]
    name = code.co_filename
    for cut in ("/site-packages/", "/defensa/", "/lib/python3"):
        if cut in name:
            name = name.split(cut, 1)[1]
            break
    return f"{name}:{code.co_name}"


def _sample() -> None:
    me = threading.get_ident()
    last: dict[int, float] = {}
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    in_hold: collections.Counter[str] = collections.Counter()  # inclusive, while holding
    total = 0.0
    written = time.monotonic()
    while True:
        time.sleep(0.002 if _SAMPLE else 2)
        for ident, frame in sys._current_frames().items() if _SAMPLE else ():  # noqa: SLF001
            if ident == me:
                continue
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except OSError:
                continue
            spent = cpu - last.get(ident, cpu)
            last[ident] = cpu
            if spent <= 0:
                continue
            total += spent
            own[_where(frame.f_code)] += spent
            holding = ident in _holders
            seen = set()
            while frame is not None:
                where = _where(frame.f_code)
                if where not in seen:
                    seen.add(where)
                    inclusive[where] += spent
                    if holding:
                        in_hold[where] += spent
                frame = frame.f_back
        if time.monotonic() - written >= 2 or not _SAMPLE:
            written = time.monotonic()
            data = {"total": total, "inclusive": inclusive, "own": own, "holds": _holds}
            data["in_hold"] = in_hold
            (_DIR / f"{os.getpid()}.json").write_text(json.dumps(data))


if __name__ == "__main__":
    total = 0.0
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    in_hold: collections.Counter[str] = collections.Counter()
    for path in Path(sys.argv[1]).glob("*.json"):
        data = json.loads(path.read_text())
        total += data["total"]
        inclusive.update(data["inclusive"])
        own.update(data["own"])
        in_hold.update(data.get("in_hold", {}))
    holds: list[list[float]] = []
    for path in Path(sys.argv[1]).glob("*.json"):
        holds.extend(json.loads(path.read_text()).get("holds", []))
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    if holds:
        print(f"writes: {len(holds)} (ms: mean, p50, p90, p99)")
        for k, name in enumerate(("queue wait", "hold", "holder's CPU in hold")):
            ms = sorted(1000 * h[k] for h in holds)
            at = [ms[min(len(ms) - 1, int(q * len(ms)))] for q in (0.5, 0.9, 0.99)]
            print(f"  {name:22} {sum(ms) / len(ms):6.2f} " + " ".join(f"{v:6.2f}" for v in at))
    if not total:
        raise SystemExit(0)  # holds only (BENCH_PROFILE_SAMPLE=0)
    print(f"CPU seen: {total:.1f} s")
    print("inclusive:")
    for where, spent in inclusive.most_common(top):
        print(f"  {100 * spent / total:5.1f}%  {where}")
    print("inclusive, while the thread held the writers' queue:")
    for where, spent in in_hold.most_common(top):
        print(f"  {100 * spent / total:5.1f}%  {where}")
    print("own:")
    for where, spent in own.most_common(top // 2):
        print(f"  {100 * spent / total:5.1f}%  {where}")
