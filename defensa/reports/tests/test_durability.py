"""An acknowledged report survives the crash of the process that acknowledged it (SQLite).

The child process stores a report through the live path, says its reference (what the
receipt does), and is killed with SIGKILL at once: no connection closed, no checkpoint, no
clean exit. The report must be in the database file and its write-ahead log afterwards.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess

import pytest

from defensa.core.tests import migrated
from defensa.core.tests.proc import PYTHON, REPO, clean_env, manage

# Its own SQLite installs in child processes: run once, not in both phases.
pytestmark = pytest.mark.own_databases

CHILD = """
import datetime as dt, os, signal, sys, django
django.setup()
from django.db import connection
from defensa.reports.actions import receive_report
report = receive_report(
    {"category": "checkpoint", "zip_code": "90033", "observed_at": dt.datetime.now(dt.UTC)},
    channel="web",
    idempotency_key="durability-test-key",
).report
with connection.cursor() as cursor:
    cursor.execute("PRAGMA synchronous")
    level = cursor.fetchone()[0]
print(report.reference, level, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize(("mode", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_a_report_acknowledged_before_a_kill_is_kept(tmp_path, mode: str, level: int) -> None:
    env = clean_env(tmp_path / "data", DEFENSA_SQLITE_SYNCHRONOUS=mode)
    migrated.copy_sqlite(tmp_path / "data")
    child = subprocess.run(
        [PYTHON, "-c", CHILD], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    reference, got_level = child.stdout.split()
    assert int(got_level) == level
    db = sqlite3.connect(tmp_path / "data" / "defensa.sqlite3")
    try:
        rows = db.execute("SELECT reference FROM reports_report").fetchall()
    finally:
        db.close()
    assert rows == [(reference,)]


def test_an_unknown_synchronous_mode_is_refused(tmp_path) -> None:
    env = clean_env(tmp_path / "data", DEFENSA_SQLITE_SYNCHRONOUS="OFF")
    done = manage(env, "check")
    assert done.returncode != 0 and "DEFENSA_SQLITE_SYNCHRONOUS" in done.stderr
