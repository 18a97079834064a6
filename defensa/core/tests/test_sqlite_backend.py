"""The SQLite backend waits for the write lock in short steps, up to its timeout."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from django.db import OperationalError
from django.db.utils import load_backend


def wrapper(path, timeout: float):  # type: ignore[no-untyped-def]
    backend = load_backend("defensa.core.sqlite")
    settings_dict = {
        "ENGINE": "defensa.core.sqlite",
        "NAME": str(path),
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "ATOMIC_REQUESTS": False,
        "AUTOCOMMIT": True,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": timeout,
            "init_command": "PRAGMA journal_mode=WAL",
        },
        "TIME_ZONE": None,
        "TEST": {},
    }
    return backend.DatabaseWrapper(settings_dict, "intake_lock_test")


def hold_write_lock(path, seconds: float, ready: threading.Event) -> None:  # type: ignore[no-untyped-def]
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('other')")
    ready.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def write(db) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES ('ours')")


def test_a_write_waits_for_the_lock_and_then_commits(path) -> None:  # type: ignore[no-untyped-def]
    from django.db import connections

    db = wrapper(path, timeout=5)
    connections["intake_lock_test"] = db
    try:
        db.ensure_connection()
        statements: list[str] = []
        db.connection.set_trace_callback(statements.append)
        ready = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(path, 0.3, ready))
        holder.start()
        ready.wait(5)
        started = time.monotonic()
        write(db)
        waited = time.monotonic() - started
        holder.join()
        db.connection.set_trace_callback(None)
        assert waited >= 0.2  # it really waited for the other writer
        # In short steps of its own, not in SQLite's busy handler (one attempt sleeping up
        # to 100 ms at a time): the lock is asked for again every few milliseconds.
        assert statements[0] == "PRAGMA busy_timeout = 0"
        assert statements.count("BEGIN IMMEDIATE") >= 5
        with db.cursor() as cursor:
            cursor.execute("SELECT v FROM t ORDER BY id")
            assert [row[0] for row in cursor.fetchall()] == ["other", "ours"]
            # Every other statement keeps SQLite's own busy timeout.
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 5000
    finally:
        db.close()
        del connections["intake_lock_test"]


def test_a_write_gives_up_after_the_timeout(path) -> None:  # type: ignore[no-untyped-def]
    from django.db import connections

    db = wrapper(path, timeout=0.3)
    connections["intake_lock_test"] = db
    try:
        ready = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(path, 1.5, ready))
        holder.start()
        ready.wait(5)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            write(db)
        assert 0.3 <= time.monotonic() - started < 1.4
        holder.join()
        write(db)  # and works again once the lock is free
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone()[0] == 2
    finally:
        db.close()
        del connections["intake_lock_test"]


def test_every_connection_overwrites_what_it_deletes_and_caps_the_wal(path) -> None:  # type: ignore[no-untyped-def]
    # Whatever the SQLite build's default or an operator's init_command says (Debian builds
    # with secure_delete on, others do not): purged rows must be zeroed in their pages.
    from defensa.core.sqlite.base import JOURNAL_SIZE_LIMIT

    db = wrapper(path, timeout=1)
    db.settings_dict["OPTIONS"]["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA secure_delete=OFF; PRAGMA journal_size_limit=-1"
    )
    try:
        with db.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete")
            assert cursor.fetchone()[0] == 1
            cursor.execute("PRAGMA journal_size_limit")
            assert cursor.fetchone()[0] == JOURNAL_SIZE_LIMIT
    finally:
        db.close()


def queued_write(path, started: threading.Event, go: threading.Event, out: dict) -> None:  # type: ignore[no-untyped-def]
    """A writer of this backend in a thread of its own: takes its turn, waits for `go`,
    writes and commits, and tells what it sent to SQLite."""
    from django.db import connections, transaction

    db = wrapper(path, timeout=5)
    alias = f"intake_queue_{threading.get_ident()}"
    db.alias = alias
    connections[alias] = db
    try:
        db.ensure_connection()
        statements: list[str] = []
        db.connection.set_trace_callback(statements.append)
        with transaction.atomic(using=alias), db.cursor() as cursor:
            started.set()
            go.wait(5)
            cursor.execute("INSERT INTO t (v) VALUES (%s)", [out["name"]])
        out["at"] = time.monotonic()
        out["statements"] = statements
    finally:
        db.close()
        del connections[alias]


def test_writers_of_the_backend_wait_their_turn_asleep_not_asking_again(path) -> None:  # type: ignore[no-untyped-def]
    """A second writer waits in the writers' queue (a lock file beside the database) and
    sends BEGIN IMMEDIATE once, when its turn comes: no retries taking the interpreter lock
    from the writer that holds the write lock (docs/performance.md, "Intake")."""
    first = {"name": "first"}
    second = {"name": "second"}
    first_in, second_in, go_first, go_second = (threading.Event() for _ in range(4))
    a = threading.Thread(target=queued_write, args=(path, first_in, go_first, first))
    a.start()
    assert first_in.wait(5)
    b = threading.Thread(target=queued_write, args=(path, second_in, go_second, second))
    b.start()
    go_second.set()
    assert not second_in.wait(0.3)  # still in the queue while the first holds the write
    released = time.monotonic()
    go_first.set()
    a.join(5)
    assert second_in.wait(5)
    b.join(5)
    assert second["at"] >= released
    # One BEGIN each: the second was woken when the first was done, not polling meanwhile.
    assert second["statements"].count("BEGIN IMMEDIATE") == 1, second["statements"]
    assert first["statements"].count("BEGIN IMMEDIATE") == 1
    check = sqlite3.connect(str(path))
    assert [r[0] for r in check.execute("SELECT v FROM t ORDER BY id")] == ["first", "second"]
    check.close()


def test_the_queue_is_let_go_after_a_rollback_and_a_failed_begin(path) -> None:  # type: ignore[no-untyped-def]
    import fcntl
    import os

    from django.db import connections, transaction

    db = wrapper(path, timeout=0.2)
    connections["intake_lock_test"] = db
    lock_file = f"{path}-writers"

    def queue_is_free() -> bool:
        fd = os.open(lock_file, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)  # closing lets go of a lock taken here
        return True

    try:
        with pytest.raises(ZeroDivisionError), transaction.atomic(using="intake_lock_test"):
            assert not queue_is_free()
            1 / 0  # noqa: B018
        assert queue_is_free()
        # A writer outside the queue holds SQLite's lock past the timeout: BEGIN fails, and
        # the queue is free again for the next writer.
        ready = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(path, 0.6, ready))
        holder.start()
        ready.wait(5)
        with pytest.raises(OperationalError, match="locked"):
            write(db)
        assert queue_is_free()
        holder.join()
        write(db)
        assert queue_is_free()
    finally:
        db.close()
        del connections["intake_lock_test"]
