"""DEFENSA_DB_POOL_SIZE: the threads of one process share Django's psycopg pool on PostgreSQL.

Each case starts a fresh interpreter with the environment under test (settings are read once
per process). The pooled case talks to a real PostgreSQL server: the one of DATABASE_URL when
the suite runs on PostgreSQL, else the local one that `make test` needs anyway.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"pool": db.get("OPTIONS", {}).get("pool"), "age": db["CONN_MAX_AGE"],
                  "options": db.get("OPTIONS", {}).get("options", "")}))
"""

# Twelve threads at once, each running a query that holds its connection for a moment and
# handing it back as a request's end does; the pool never opens more than its size.
THREADS = """
import json, threading, django
django.setup()
from django.db import close_old_connections, connection, connections
barrier = threading.Barrier(12)
seen, jit = [], []
def work():
    barrier.wait()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() FROM pg_sleep(0.2)")
        seen.append(cursor.fetchone()[0])
        cursor.execute("SHOW jit")
        jit.append(cursor.fetchone()[0])
    connection.close()  # what the end of a request does: back to the pool
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
stats = connections["default"].pool.get_stats()
print(json.dumps({"answered": len(seen), "backends": len(set(seen)), "jit": sorted(set(jit)),
                  "opened": stats.get("connections_num", 0)}))
"""


def _python(code: str, tmp_path: Path, **env: str) -> dict:
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DEFENSA_DB_POOL")},
        "DJANGO_SETTINGS_MODULE": "defensa.settings",
        "DEFENSA_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url.rsplit("/", 1)[0]
    return "postgres://postgres@127.0.0.1:5432"


def test_no_pool_unless_asked(tmp_path: Path) -> None:
    found = _python(SETTINGS, tmp_path, DATABASE_URL=f"{_server()}/postgres")
    assert found == {"pool": None, "age": 60, "options": "-c jit=off"}


def test_pool_size_sets_django_pool_and_no_persistent_connections(tmp_path: Path) -> None:
    found = _python(
        SETTINGS,
        tmp_path,
        DATABASE_URL=f"{_server()}/postgres",
        DEFENSA_DB_POOL_SIZE="4",
        DEFENSA_DB_POOL_TIMEOUT_SECONDS="7",
    )
    assert found["pool"] == {"min_size": 1, "max_size": 4, "timeout": 7}
    assert found["age"] == 0


def test_jit_is_off_unless_asked_for(tmp_path: Path) -> None:
    url = f"{_server()}/postgres"
    assert _python(SETTINGS, tmp_path, DATABASE_URL=url)["options"] == "-c jit=off"
    assert _python(SETTINGS, tmp_path, DATABASE_URL=url, DEFENSA_POSTGRES_JIT="1")["options"] == ""


def test_pool_is_ignored_on_sqlite(tmp_path: Path) -> None:
    found = _python(SETTINGS, tmp_path, DEFENSA_DB_POOL_SIZE="4", DATABASE_URL="")
    assert found["pool"] is None


def test_a_bad_pool_size_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "defensa.settings",
            "DEFENSA_DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(ROOT),
            "DEFENSA_DB_POOL_SIZE": "many",
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "DEFENSA_DB_POOL_SIZE must be a whole number" in done.stderr


def test_twelve_threads_share_a_pool_of_four(tmp_path: Path) -> None:
    import psycopg

    server = _server()
    # `make test` starts or finds PostgreSQL for the suite's second run: its absence is a
    # failure to see, not a case to skip (a loaded machine once took over 3 s to answer).
    try:
        psycopg.connect(f"{server}/postgres", connect_timeout=30).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"no PostgreSQL server answers at {server}: {exc}")
    found = _python(THREADS, tmp_path, DATABASE_URL=f"{server}/postgres", DEFENSA_DB_POOL_SIZE="4")
    assert found["answered"] == 12  # every thread got a connection in turn, none failed
    assert found["backends"] <= 4 and found["opened"] <= 4
    assert found["jit"] == ["off"]  # the pool's connections carry the options too
