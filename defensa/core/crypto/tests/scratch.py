"""Scratch installs for tests that must look at real database files and dumps.

The test database of pytest-django is SQLite in memory, so the canary and backup tests run
Defensa in a child process against its own data directory (SQLite file, WAL and all) or its
own PostgreSQL database, created and dropped here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import psycopg
import pytest

from defensa.core.tests import migrated
from defensa.core.tests.proc import clean_env

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def pg_server() -> dict | None:
    """Connection settings of the PostgreSQL server the suite uses, if one answers."""
    url = os.environ.get("DATABASE_URL", "")
    cfg = dj_database_url.parse(url if url.startswith("postgres") else DEFAULT_PG)
    try:
        psycopg.connect(**migrated.conninfo(cfg, "postgres"), connect_timeout=3).close()
    except psycopg.Error:
        return None
    return cfg


@contextlib.contextmanager
def scratch_pg(prefix: str) -> Iterator[str]:
    """A fresh, migrated, empty PostgreSQL database (URL), dropped afterwards."""
    cfg = pg_server()
    if cfg is None:
        # Said, not silent: -ra lists it, and scripts/test-all says when PostgreSQL is absent.
        pytest.skip("no PostgreSQL server answers: the PostgreSQL half cannot run here")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    migrated.create_pg(cfg, name)
    try:
        yield migrated.pg_url(cfg, name)
    finally:
        with psycopg.connect(**migrated.conninfo(cfg, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def install_env(data_dir: Path, database_url: str = "", **extra: str) -> dict[str, str]:
    env = clean_env(data_dir, **extra)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def migrate(env: dict[str, str]) -> None:
    """Give the install a freshly migrated, empty database: a copy of the suite's template.

    On PostgreSQL `scratch_pg` made the database from the template already.
    """
    if not env.get("DATABASE_URL"):
        migrated.copy_sqlite(Path(env["DEFENSA_DATA_DIR"]))
