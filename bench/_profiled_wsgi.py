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
_started = threading.Event()


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
    total = 0.0
    written = time.monotonic()
    while True:
        time.sleep(0.002)
        for ident, frame in sys._current_frames().items():  # noqa: SLF001
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
            seen = set()
            while frame is not None:
                where = _where(frame.f_code)
                if where not in seen:
                    seen.add(where)
                    inclusive[where] += spent
                frame = frame.f_back
        if time.monotonic() - written > 2:
            written = time.monotonic()
            data = {"total": total, "inclusive": inclusive, "own": own}
            (_DIR / f"{os.getpid()}.json").write_text(json.dumps(data))


if __name__ == "__main__":
    total = 0.0
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for path in Path(sys.argv[1]).glob("*.json"):
        data = json.loads(path.read_text())
        total += data["total"]
        inclusive.update(data["inclusive"])
        own.update(data["own"])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    print(f"CPU seen: {total:.1f} s")
    print("inclusive:")
    for where, spent in inclusive.most_common(top):
        print(f"  {100 * spent / total:5.1f}%  {where}")
    print("own:")
    for where, spent in own.most_common(top // 2):
        print(f"  {100 * spent / total:5.1f}%  {where}")
