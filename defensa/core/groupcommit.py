"""Group commit: the writes of several threads of one process under one hold of the write lock.

A database takes one write transaction at a time (SQLite's write lock; on PostgreSQL the
intake's advisory lock), so under a surge the rate of public reports is one per hold of that
lock, and each hold pays for more than the report's own statements: taking the lock, BEGIN,
COMMIT (the write-ahead log's pages), handing the lock to the next writer.

`GroupCommit.run(write)` runs `write` in a write transaction of its own, as
`transaction.atomic()` would, unless a thread of the same process is already waiting for the
write lock for the same purpose: then `write` joins that thread's transaction. When the
waiting thread gets the lock it runs its own write and every one that joined it, each in a
savepoint of its own, commits once, and hands each thread its own outcome. A write that
raises is rolled back alone (its savepoint) and its thread gets the exception; the others
commit. If the transaction itself fails (BEGIN or COMMIT, or its connection is lost during
the batch), every thread in it gets the error and nothing of it is stored. A thread returns
only after its write is committed, so what it acknowledges is stored, as before.

A write runs in whichever thread holds the batch, with that thread's database connection:
`write` must take everything it needs as arguments (not from thread-local state such as the
active language), and must not start a transaction of its own outside `transaction.atomic()`.
A caller already inside a transaction runs its write there, alone (joining another thread's
transaction would commit it outside the caller's).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("write", "value", "error", "finished")

    def __init__(self, write: Callable[[], T]) -> None:
        self.write = write
        self.value: T | None = None
        self.error: BaseException | None = None
        self.finished = False

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class GroupCommit:
    """One per kind of write (the public reports' intake): threads join only their own kind.

    `locked`: run once per transaction, right after BEGIN, before any write (the intake's
    PostgreSQL advisory lock), so the batch is gathered while it waits.
    `limit`: the most writes in one transaction. `using`: the database.
    """

    def __init__(
        self,
        *,
        locked: Callable[[], None] | None = None,
        limit: int = 16,
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        self.locked = locked
        self.limit = limit
        self.using = using
        self._changed = threading.Condition()
        self._gathering = False  # a thread of this process is waiting for the lock
        self._joined: list[_Job] = []  # writes waiting for that thread's transaction

    @property
    def joined(self) -> int:
        """How many writes wait now for a transaction being gathered."""
        with self._changed:
            return len(self._joined)

    def run(self, write: Callable[[], T]) -> T:
        if connections[self.using].in_atomic_block:
            return self._alone(write)
        job: _Job[T] = _Job(write)
        with self._changed:
            if self._gathering and len(self._joined) < self.limit - 1:
                self._joined.append(job)
                while not job.finished:
                    self._changed.wait()
                return job.outcome()
            if self._gathering:
                leader = False  # the batch is full: a transaction of its own
            else:
                self._gathering = leader = True
        if not leader:
            return self._alone(write)
        return self._lead(job)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """A write transaction with its `locked` step done."""
        with transaction.atomic(using=self.using):
            if self.locked is not None:
                self.locked()
            yield

    def _alone(self, write: Callable[[], T]) -> T:
        with self._transaction():
            return write()

    def _lead(self, job: _Job[T]) -> T:
        batch: list[_Job] = [job]
        gathered = False
        try:
            with self._transaction():
                batch += self._gather()
                gathered = True
                if len(batch) == 1:
                    job.value = job.write()
                else:
                    for each in batch:
                        try:
                            # A savepoint: rolled back alone.
                            with transaction.atomic(using=self.using):
                                each.value = each.write()
                        except Exception as exc:  # noqa: BLE001 (it is that thread's to raise)
                            each.error = exc
                    if connections[self.using].needs_rollback:
                        # A savepoint could not be rolled back, or the connection was lost:
                        # Django would end the transaction with a rollback and no error, and
                        # the writes before would be told they were stored.
                        raise DatabaseError("the transaction was lost during a group commit")
        except BaseException as exc:
            # Nothing of the transaction was committed: every write in it fails with it.
            if not gathered:
                batch += self._gather()
            for each in batch:
                each.error, each.value = exc, None
        finally:
            with self._changed:
                for each in batch:
                    each.finished = True
                self._changed.notify_all()
        return job.outcome()

    def _gather(self) -> list[_Job]:
        """The writes that joined while this thread waited for the lock; later ones wait for
        the next transaction."""
        with self._changed:
            joined, self._joined = self._joined, []
            self._gathering = False
        return joined
