"""intake_idempotency: the same submission retried never makes a second Report.

The public form is not built yet, so this drives `receive_report()` — the one door every
channel uses — directly, on a throwaway one-machine install (SQLite file in WAL mode, as
deployed). Four processes send the same submissions at the same time, each in its own order
and each submission three times (a phone retrying on a bad network, twice over), so a retry
often races the first attempt. Then every idempotency key must hold exactly one Report.

Figures: `retries` (submissions beyond the first of each), `duplicates` (Reports beyond one
per submission), `lost` (submissions with no Report), `errors`. Target: duplicates == 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import manage, scratch_env

TARGETS = {"duplicates": 0, "lost": 0, "errors": 0}
WORKERS = 4
ATTEMPTS = 3


def run(quick: bool = False) -> dict:
    submissions = 50 if quick else 300
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        env = scratch_env(Path(tmp) / "data")
        manage(env, "migrate")
        progress(f"{WORKERS} processes x {submissions} submissions x {ATTEMPTS} attempts")
        cmd = [sys.executable, "-m", "bench.intake_idempotency"]
        children = [
            subprocess.Popen(  # noqa: S603
                [*cmd, "--send", str(submissions), str(seed)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for seed in range(WORKERS)
        ]
        sent = errors = 0
        for child in children:
            out, _ = child.communicate()
            figures = json.loads(out.strip().splitlines()[-1])
            sent += figures["sent"]
            errors += figures["errors"] + (child.returncode != 0)
        done = subprocess.run(
            [*cmd, "--count", str(submissions)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        counts = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {
        "submissions": submissions,
        "retries": sent - submissions,
        "duplicates": counts["reports"] - counts["distinct"],
        "lost": submissions - counts["distinct"],
        "errors": errors,
        "incidents": counts["incidents"],
        "via": "receive_report (the public form is not built yet)",
    }
    ok = figures["duplicates"] == 0 and figures["lost"] == 0 and errors == 0
    return result("intake_idempotency", figures, TARGETS, ok)


def _submission(i: int) -> dict:
    import datetime as dt

    base = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)
    return {
        "category": "workplace_raid",
        "lat": 34.0 + (i % 20) * 0.01,
        "lon": -118.3 + (i // 20) * 0.01,
        "precision_m": 30,
        "location_kind": "gps",
        "observed_at": base + dt.timedelta(minutes=i % 30),
        "description": f"submission {i}",
    }


def _send(submissions: int, seed: int) -> dict:
    import random

    import django

    django.setup()
    from defensa.reports.actions import receive_report

    order = [i for i in range(submissions) for _ in range(ATTEMPTS)]
    random.Random(seed).shuffle(order)
    sent = errors = 0
    for i in order:
        try:
            receive_report(_submission(i), channel="web", idempotency_key=f"bench-key-{i:06d}")
        except Exception as exc:  # noqa: BLE001 (a benchmark counts every failure)
            errors += 1
            progress(f"error: {exc!r}")
        sent += 1
    return {"sent": sent, "errors": errors}


def _count(submissions: int) -> dict:
    import django

    django.setup()
    from defensa.incidents.models import Incident
    from defensa.reports.actions import key_digest
    from defensa.reports.models import Report

    keys = {key_digest(f"bench-key-{i:06d}") for i in range(submissions)}
    stored = list(Report.objects.values_list("idempotency_key", flat=True))
    return {
        "reports": len(stored),
        "distinct": len(set(stored) & keys),
        "incidents": Incident.objects.count(),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
    if len(sys.argv) == 4 and sys.argv[1] == "--send":
        print(json.dumps(_send(int(sys.argv[2]), int(sys.argv[3]))), flush=True)
    elif len(sys.argv) == 3 and sys.argv[1] == "--count":
        print(json.dumps(_count(int(sys.argv[2]))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench intake_idempotency [--quick]")
