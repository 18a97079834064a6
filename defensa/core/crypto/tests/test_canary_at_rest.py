"""No plaintext of an encrypted value at rest: the SQLite file and its WAL, a pg_dump.

The canaries (a fictional phone and A-number) go in through the real intake path, in a child
process with its own data directory or PostgreSQL database; then the raw bytes are searched
(UTF-8 and UTF-16). A control value stored in an ordinary column must be found, so the
search is shown to work.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from defensa.core.crypto.tests.scratch import install_env, migrate, scratch_pg
from defensa.core.crypto.tests.seed_canaries import CONTROL
from defensa.core.tests.canary import CANARY_NEEDLES, files_containing
from defensa.core.tests.proc import PYTHON, REPO

# Its own installs, SQLite and PostgreSQL, in child processes: run once, not in both phases.
pytestmark = pytest.mark.own_databases

SEED = "from defensa.core.crypto.tests.seed_canaries import main; main()"


def start_seed(env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", SEED],
        cwd=REPO,
        env={**env, "CANARY_HOLD": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("seeded"):
        proc.kill()
        raise AssertionError(f"seeding failed: {line}{proc.stderr.read()}")  # type: ignore[union-attr]
    return proc


def finish(proc: subprocess.Popen[str]) -> None:
    proc.stdin.close()  # type: ignore[union-attr]
    assert proc.wait(timeout=60) == 0, proc.stderr.read()  # type: ignore[union-attr]


def test_no_canary_in_the_sqlite_file_or_its_wal(tmp_path: Path) -> None:
    env = install_env(tmp_path)
    migrate(env)
    proc = start_seed(env)
    try:
        wal = tmp_path / "defensa.sqlite3-wal"
        # While the writer is open the new pages sit in the WAL: search it as it is.
        assert wal.exists() and wal.stat().st_size > 0
        assert files_containing([tmp_path], CANARY_NEEDLES) == []
        assert files_containing([tmp_path], [CONTROL]) != []
    finally:
        finish(proc)
    # And after the checkpoint folded the WAL into the database file.
    assert files_containing([tmp_path], CANARY_NEEDLES) == []
    assert files_containing([tmp_path / "defensa.sqlite3"], [CONTROL]) != []


def test_no_canary_in_a_postgresql_dump(tmp_path: Path) -> None:
    with scratch_pg("defensa_canary") as url:
        env = install_env(tmp_path, url)
        migrate(env)
        finish(start_seed(env))
        dump = tmp_path / "dump.sql"
        done = subprocess.run(
            ["pg_dump", "--dbname", url, "--file", str(dump)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert files_containing([dump], CANARY_NEEDLES) == []
        assert files_containing([dump], [CONTROL]) != []
