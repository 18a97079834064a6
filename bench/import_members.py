"""import_members: a 100,000-row members spreadsheet, checked and imported (docs/performance.md).

A scratch SQLite install (the one-machine default) gets one committee and its coordinator.
A CSV of N made-up people (every 10th row invalid in one of three ways) is written to a
temporary file and uploaded through the import engine in 64 KiB chunks, as a browser upload
arrives. Then, in a child process whose memory is measured on its own:

- preview_s: the whole-file check the mapping page shows (every row validated, deduplicated
  and matched against the committee; nothing written);
- rows_per_s: rows done per second by the background job (`run_import`), which seals each
  new person's details under their own data key and writes the error report;
- peak_rss_mb: the child's peak resident memory (target <= 512: the file is streamed, never
  loaded whole).

The figures are wall-clock; the progress lines also give the child's CPU time, which a
shared machine's load does not inflate.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import manage, scratch_env

CHILD = """
import json, resource, sys, time, django
django.setup()
from defensa.committees.models import Committee, Membership
from defensa.accounts.models import User
from defensa.imports import actions, engine
from defensa.testing.spreadsheets import member_lines
rows, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w", encoding="utf-8") as out:
    for line in member_lines(rows, invalid_every=10):
        out.write(line)
committee = Committee.objects.create(name="Boyle Heights", slug="boyle-heights")
coordinator = User.objects.create(email="c@example.org", display_name="C", password="!")
Membership.objects.create(user=coordinator, committee=committee, status="full", is_coordinator=True)

def chunks():
    with open(path, "rb") as source:
        while block := source.read(65536):
            yield block

t0 = time.monotonic()
job = actions.upload_import("members", committee.pk, chunks(), actor=coordinator)
upload_s = time.monotonic() - t0
t0, c0 = time.monotonic(), time.process_time()
seen = engine.preview(job)
preview_s, preview_cpu = time.monotonic() - t0, time.process_time() - c0
actions.confirm_import(job, rows=seen.total, actor=coordinator)
t0, c0 = time.monotonic(), time.process_time()
job = actions.run_import(job.pk)
import_s, import_cpu = time.monotonic() - t0, time.process_time() - c0
print(json.dumps({
    "upload_s": upload_s, "preview_s": preview_s, "import_s": import_s,
    "preview_cpu": preview_cpu, "import_cpu": import_cpu,
    "total": seen.total, "new": job.rows_new, "invalid": job.rows_invalid,
    "done": job.rows_done, "status": job.status,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(quick: bool = False) -> dict:
    rows = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        env = scratch_env(Path(tmp) / "data")
        manage(env, "migrate", "--noinput")
        progress(f"writing, checking and importing {rows} rows")
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(rows), str(Path(tmp) / "members.csv")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        seen = json.loads(done.stdout.strip().splitlines()[-1])
    rows_per_s = seen["done"] / seen["import_s"] if seen["import_s"] else 0.0
    figures = {
        "rows": seen["total"],
        "preview_s": round(seen["preview_s"], 2),
        "rows_per_s": round(rows_per_s),
        "peak_rss_mb": round(seen["peak_rss_mb"], 1),
    }
    progress(
        f"upload {seen['upload_s']:.1f} s; {seen['new']} new, {seen['invalid']} invalid; "
        f"import {seen['import_s']:.1f} s ({seen['status']}); CPU of this process: preview "
        f"{seen['preview_cpu']:.1f} s, import {seen['import_cpu']:.1f} s "
        f"({seen['done'] / max(seen['import_cpu'], 0.001):.0f} rows per CPU second)"
    )
    targets = {"rows_per_s": ">= 2000", "peak_rss_mb": "<= 512"}
    ok = (
        seen["status"] == "done"
        and seen["total"] == rows
        and rows_per_s >= 2000
        and seen["peak_rss_mb"] <= 512
    )
    return result("import_members", figures, targets, ok)
