"""`run_periodically` runs the housekeeping jobs beside the web server in `make run`: each on
its schedule, again and again, surviving a failing job; Ctrl-C and SIGTERM stop it cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.core.management import CommandError

from defensa.core.management.commands.run_periodically import parse_jobs
from defensa.notify.testing import smtp_server
from defensa.notify.tests.procs import PY, REPO, workers

__all__ = ["smtp_server", "workers"]


def _stale(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a video")
    then = time.time() - 7200
    os.utime(path, (then, then))
    return path


def _wait(check, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_jobs_run_on_schedule_survive_a_failure_and_stop_on_ctrl_c(workers, tmp_path):  # type: ignore[no-untyped-def]
    incoming = tmp_path / "media" / "evidence" / "incoming"
    first = _stale(incoming / "in-first")
    proc = subprocess.Popen(
        # group_reports without its arguments fails every time: the others must go on.
        [
            PY,
            "manage.py",
            "run_periodically",
            "purge_incoming_videos:1",
            "fetch_voicemails:1",
            "purge_voicemails:1",
            "group_reports:1",
            "--verbosity",
            "2",
        ],
        cwd=REPO,
        env={**workers.env, "DEFENSA_DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(lambda: not first.exists(), "the first pass never cleaned the incoming folder")
        # A second file, made after the first pass, goes at a later pass: it repeats.
        second = _stale(incoming / "in-second")
        _wait(lambda: not second.exists(), "no second pass")
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.count("purge_incoming_videos: 1 deleted") == 2
    assert "stored 0, still waiting 0" in out and "purged 0" in out
    assert "group_reports failed; trying again in 1 s" in err
    # The failing job's traceback is reported; nothing else failed.
    assert err.count("Traceback") == err.count("group_reports failed")


def test_bad_job_lists_are_refused():
    for jobs in ([], ["nosuchcommand:5"], ["purge_voicemails"], ["purge_voicemails:0"]):
        with pytest.raises(CommandError):
            parse_jobs(jobs)
    with pytest.raises(CommandError):
        parse_jobs(["run_periodically:5"])
    assert parse_jobs(["purge_voicemails:3600"]) == [("purge_voicemails", 3600)]


def test_scripts_serve_runs_the_housekeeping_jobs():
    serve = (REPO / "scripts" / "serve").read_text()
    line = re.search(r"manage\.py run_periodically \\\n\s*([^&]+)&", serve)
    assert line, "scripts/serve no longer starts run_periodically"
    names = [name for name, _every in parse_jobs(line.group(1).split())]
    assert names == [
        "fetch_voicemails",
        "purge_voicemails",
        "purge_incoming_videos",
        "audit_checkpoint",
        "organising_tick",
    ]
