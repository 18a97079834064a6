"""Django's SQLite backend, with short waits for the write lock.

SQLite's own busy handler sleeps in growing steps up to 100 ms while another connection
writes; under a surge of public reports that made some posts wait hundreds of milliseconds
for a lock that was free again after two or three. Here `BEGIN IMMEDIATE` (every write
transaction: `transaction_mode` is IMMEDIATE) asks again after 0.5-4 ms with jitter until
the configured timeout; every other statement keeps SQLite's busy timeout (a WAL reader is
not blocked by a writer). docs/performance.md, "Intake".

Every connection also sets `secure_delete` (deleted rows and shredded keys are overwritten
with zeros in the page, not left in free space) and caps `journal_size_limit` (a WAL reset
after a checkpoint is truncated to this size, so old page images do not linger in a large
file). retention.purge checkpoints and truncates the WAL after each pass. Security
property 17, docs/security-operations.md "What a seized disk holds".
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_FIRST_WAIT_S = 0.0005
_LONGEST_WAIT_S = 0.004
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict) -> Any:
        conn = super().get_new_connection(conn_params)
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        return conn

    # The writers' queue: a lock file beside the database, taken (flock, blocking, without
    # the interpreter lock) before BEGIN IMMEDIATE and let go at the end of the transaction.
    # Writers of every process wait their turn asleep in the kernel, woken when it is free,
    # instead of asking SQLite again every few milliseconds: under a surge of public reports
    # those retries took the interpreter lock from the thread that held the write lock, and
    # the write lock was held three times as long as its own CPU (docs/performance.md,
    # "Intake"). A writer outside the queue (the sqlite3 shell, a backup) is still waited
    # for by the retries below. In-memory databases (the tests') have no file to lock.
    _queue_fd: int | None = None
    _in_queue = False

    def _enter_writers_queue(self) -> None:
        if self.is_in_memory_db():
            return
        if self._queue_fd is None:
            self._queue_fd = os.open(
                f"{self.settings_dict['NAME']}-writers", os.O_RDWR | os.O_CREAT, 0o600
            )
        fcntl.flock(self._queue_fd, fcntl.LOCK_EX)
        self._in_queue = True

    def _leave_writers_queue(self) -> None:
        if self._in_queue:
            self._in_queue = False
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)  # type: ignore[arg-type]

    def _set_autocommit(self, autocommit: bool) -> None:
        try:
            super()._set_autocommit(autocommit)
        finally:
            if autocommit:  # the transaction is over: committed or rolled back
                self._leave_writers_queue()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._leave_writers_queue()
            if self._queue_fd is not None:
                os.close(self._queue_fd)
                self._queue_fd = None

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode is None:
            super()._start_transaction_under_autocommit()
            return
        self._enter_writers_queue()
        try:
            self._begin()
        except BaseException:
            self._leave_writers_queue()
            raise

    def _begin(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline = time.monotonic() + timeout
        wait = _FIRST_WAIT_S
        raw = self.connection
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self.cursor().execute(f"BEGIN {self.transaction_mode}")
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() >= deadline:
                        raise
                time.sleep(wait * random.uniform(0.5, 1.5))  # noqa: S311 (jitter)
                wait = min(wait * 2, _LONGEST_WAIT_S)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
