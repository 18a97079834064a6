"""Migrated, empty databases for the suite's scratch installs, made once per set of migrations.

Migrating an empty database costs about ten seconds of CPU (Django renders the model states of
every migration, over a hundred). The scratch installs (backups, canaries on disk, purges,
durability, worker processes) each need one, on SQLite and on PostgreSQL, as does each parallel
worker's PostgreSQL test database (conftest.py names the template as its TEST TEMPLATE). So the
first to ask migrates a *template* in a child process, under a lock that the xdist workers
share, and everyone after it gets a copy: the file on SQLite, `CREATE DATABASE ... TEMPLATE` on
PostgreSQL. A copy of a freshly migrated empty database is what migrating gives. The template is
keyed by the migrations' content and Django's version, so a new migration makes a new template;
the SQLite one is kept under `var/` between runs (`make clean` removes it), the PostgreSQL ones
on the server (the four newest; other branches may be using theirs).

Migrating itself stays tested: the template is made by `manage.py migrate` on each database,
pytest-django migrates the SQLite phase's test databases from nothing, and the several-machines
recipe, `make run` and the benchmarks run `migrate` as an operator would.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import django
import psycopg
from django.conf import settings

from defensa.core.tests.proc import REPO, clean_env, manage

SQLITE_NAME = "defensa.sqlite3"
TEMPLATES = Path(settings.BASE_DIR) / "var" / "test-templates"


@functools.cache
def key() -> str:
    """What the schema is made from: every migration file and the Django that applies them."""
    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted(REPO.glob("defensa/*/migrations/*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    with (TEMPLATES / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _migrate(data_dir: Path, database_url: str = "") -> None:
    env = clean_env(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = manage(env, "migrate", "--verbosity", "0")
    assert done.returncode == 0, done.stderr  # noqa: S101 (the template must be whole)


def sqlite_template() -> Path:
    """The migrated template file, made on first use."""
    folder = TEMPLATES / f"sqlite-{key()}"
    with _locked("sqlite"):
        if not (folder / SQLITE_NAME).exists():
            with tempfile.TemporaryDirectory(prefix="defensa-template-") as building:
                _migrate(Path(building))
                db = sqlite3.connect(Path(building) / SQLITE_NAME)
                try:  # everything in the one file, nothing left in a WAL beside it
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    db.close()
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(building) / SQLITE_NAME, folder / f"{SQLITE_NAME}.part")
            os.replace(folder / f"{SQLITE_NAME}.part", folder / SQLITE_NAME)
            for old in TEMPLATES.glob("sqlite-*"):
                if old != folder:
                    shutil.rmtree(old, ignore_errors=True)
    return folder / SQLITE_NAME


def copy_sqlite(data_dir: Path) -> None:
    """Give an install's data directory a freshly migrated, empty SQLite database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template(), data_dir / SQLITE_NAME)


def conninfo(cfg: dict, dbname: str) -> dict:
    """psycopg's connection arguments for a database on the server of a Django settings dict."""
    return {
        "host": cfg["HOST"] or None,
        "port": cfg["PORT"] or None,
        "user": cfg["USER"] or None,
        "password": cfg["PASSWORD"] or None,
        "dbname": dbname,
    }


def pg_url(cfg: dict, dbname: str) -> str:
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg["PASSWORD"] else "")
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{dbname}"


_LOCK = "SELECT pg_advisory_{}(hashtext('defensa test template'))"
# Templates of other migrations kept on the server (other branches or checkouts may be using
# theirs at the same moment); older ones are dropped when a new one is made.
_KEEP = 4


def _ensure_pg_template(conn: psycopg.Connection, cfg: dict) -> str:
    template = f"defensa_tpl_{key()}"
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
        return template
    building = f"{template}_building"
    conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{building}"')
    with tempfile.TemporaryDirectory(prefix="defensa-template-") as data_dir:
        _migrate(Path(data_dir), pg_url(cfg, building))
    conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
    stale = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'defensa\\_tpl\\_%%' "
        "ORDER BY oid DESC OFFSET %s",
        [_KEEP],
    ).fetchall()
    for (name,) in stale:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return template


def pg_template(cfg: dict) -> str:
    """The name of the migrated template database on the server of `cfg` (a Django database
    settings dict), made on first use."""
    with psycopg.connect(**conninfo(cfg, "postgres"), autocommit=True) as conn:
        conn.execute(_LOCK.format("lock"))  # one builder at a time on the server
        try:
            return _ensure_pg_template(conn, cfg)
        finally:
            conn.execute(_LOCK.format("unlock"))


def create_pg(cfg: dict, name: str) -> None:
    """CREATE DATABASE `name` as a copy of the migrated template on the server of `cfg`."""
    with psycopg.connect(**conninfo(cfg, "postgres"), autocommit=True) as conn:
        conn.execute(_LOCK.format("lock"))
        try:
            template = _ensure_pg_template(conn, cfg)
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            conn.execute(_LOCK.format("unlock"))
