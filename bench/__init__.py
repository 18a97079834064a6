"""Defensa's benchmarks (docs/performance.md).

`python -m bench NAME [--quick]` runs one; `python -m bench all` runs every one. A benchmark is
a module of this package (not starting with "_") with a function

    run(quick: bool) -> dict   # {"bench": NAME, "figures": {...}, "targets": {...}, "ok": bool}

A module that sets `ALL = False` runs only when named (`million`: PostgreSQL, long).
It prints progress to stderr with `progress()`, starts the real parts it measures and stops
them when done. The runner prints the result as the last stdout line and appends it to
bench/RESULTS.md. Helpers for starting the real server live in `bench/_server.py`.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def result(name: str, figures: dict[str, Any], targets: dict[str, Any], ok: bool) -> dict:
    return {"bench": name, "figures": figures, "targets": targets, "ok": bool(ok)}


def names() -> list[str]:
    """Every benchmark module in this package, sorted."""
    found = []
    for info in pkgutil.iter_modules([str(BENCH_DIR)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found.append(info.name)
    return sorted(found)


def in_all(name: str) -> bool:
    """Whether `python -m bench all` runs it: a module may say `ALL = False` (one that needs
    a database server of its own, such as `million`)."""
    return bool(getattr(importlib.import_module(f"bench.{name}"), "ALL", True))


def run_one(name: str, quick: bool = False) -> dict:
    if name not in names():
        raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(names()) or 'none'}")
    module = importlib.import_module(f"bench.{name}")
    started = time.monotonic()
    outcome = module.run(quick=quick)
    progress(f"{name}: done in {time.monotonic() - started:.1f} s, ok={outcome['ok']}")
    return outcome


def record(outcome: dict, quick: bool, path: Path = RESULTS) -> None:
    """Append one run to RESULTS.md: date, machine cores, quick or full, ok, the figures."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cores = os.cpu_count() or 0
    figures = json.dumps(outcome["figures"], sort_keys=True, separators=(", ", ": "))
    row = (
        f"| {when} | {outcome['bench']} | {cores} | {'quick' if quick else 'full'} "
        f"| {'yes' if outcome['ok'] else 'NO'} | `{figures}` |\n"
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write(row)
