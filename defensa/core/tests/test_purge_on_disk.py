"""Purged means gone from the disk (property 17): after purge_expired, neither the SQLite file
nor its WAL holds the purged report's words or its shredded data key.

A scratch install in child processes, as a running server would have it: one process wrote
the report and keeps its connection open (a web worker), another purges 181 days later and
keeps its own open; then the raw bytes of every file in the data directory are searched.
Before the purge the same search finds both, and a row that stays is found throughout, so
the search is shown to work. On PostgreSQL the pass vacuums what it touched.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from defensa.core.crypto.tests.scratch import install_env, migrate, scratch_pg
from defensa.core.tests.proc import PYTHON, REPO
from defensa.core.tests.purge_canaries import CONTROL, PURGED_IN_FILE, PURGED_IN_WAL

# Its own installs, SQLite and PostgreSQL, in child processes: run once, not in both phases.
pytestmark = pytest.mark.own_databases


def start(env: dict[str, str], what: str, expect: str) -> tuple[subprocess.Popen[str], str]:
    code = f"from defensa.core.tests.purge_canaries import {what}; {what}()"
    proc = subprocess.Popen(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=REPO,
        env={**env, "CANARY_HOLD": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith(expect):
        proc.kill()
        raise AssertionError(f"{what} failed: {line}{proc.stderr.read()}")  # type: ignore[union-attr]
    return proc, line.split(" ", 1)[1].strip()


def finish(proc: subprocess.Popen[str]) -> None:
    proc.stdin.close()  # type: ignore[union-attr]
    assert proc.wait(timeout=60) == 0, proc.stderr.read()  # type: ignore[union-attr]


def found(root: Path, needles: dict[str, bytes]) -> list[str]:
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [f"{path.name}: {name}" for name, needle in needles.items() if needle in data]
    return hits


def test_purged_rows_and_shredded_keys_leave_the_sqlite_file_and_its_wal(tmp_path: Path) -> None:
    env = install_env(tmp_path)
    migrate(env)
    writer, wrapped = start(env, "seed", "seeded")
    first_key, second_key = (bytes.fromhex(h)[12:44] for h in wrapped.split())  # ciphertext
    needles = {
        "file words": PURGED_IN_FILE.encode(),
        "wal words": PURGED_IN_WAL.encode(),
        "first key": first_key,
        "second key": second_key,
    }
    try:
        # They are there to be found, where the writer left them.
        before = found(tmp_path, needles)
        assert {"defensa.sqlite3: file words", "defensa.sqlite3-wal: wal words"} <= set(before)
        assert "defensa.sqlite3-wal: second key" in before
        purger, summary = start(env, "purge", "purged")
        try:
            assert "deleted" in summary and "WAL checkpointed and truncated" in summary
            wal = tmp_path / "defensa.sqlite3-wal"
            assert not wal.exists() or wal.stat().st_size == 0
            assert found(tmp_path, needles) == []
            assert found(tmp_path, {"control": CONTROL.encode()}) != []
        finally:
            finish(purger)
    finally:
        finish(writer)
    assert found(tmp_path, needles) == []
    assert found(tmp_path, {"control": CONTROL.encode()}) == ["defensa.sqlite3: control"]


def test_a_purge_on_postgresql_vacuums_the_tables_it_touched(tmp_path: Path) -> None:
    with scratch_pg("defensa_purge") as url:
        env = install_env(tmp_path, url)
        migrate(env)
        finish(start(env, "seed", "seeded")[0])
        purger, summary = start(env, "purge", "purged")
        finish(purger)
        assert "deleted" in summary and "vacuumed" in summary
