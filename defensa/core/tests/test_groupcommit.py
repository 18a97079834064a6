"""Group commit: writes of threads that queue together share one transaction."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction

from defensa.audit.log import record, walk_chain
from defensa.audit.models import AuditEntry
from defensa.core.groupcommit import GroupCommit
from defensa.core.tests.test_sqlite_backend import wrapper

pytestmark = pytest.mark.django_db(transaction=True)


class Gate:
    """The `locked` hook: holds the first transaction at its start until let go, as a
    writer waiting for the database's write lock is held, and counts transactions."""

    def __init__(self) -> None:
        self.waiting = threading.Event()
        self.go = threading.Event()
        self.transactions = 0
        self.fail: BaseException | None = None

    def __call__(self) -> None:
        self.transactions += 1
        self.waiting.set()
        assert self.go.wait(10)
        if self.fail is not None:
            raise self.fail


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = target()
        except BaseException as exc:  # noqa: BLE001 (the test looks at it)
            out["error"] = exc
        finally:
            connections.close_all()  # this thread's own, before the test database goes

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def writer(n: int, ran_in: dict[int, int], *, fails: bool = False) -> Callable[[], int]:
    def write() -> int:
        ran_in[n] = threading.get_ident()
        record("test.groupcommit", n=n)
        if fails:
            raise ValueError(f"write {n} fails")
        return n * 10

    return write


def gathered(group: GroupCommit, gate: Gate, writes: list[Callable[[], int]], joining: int):
    """The first write waits for the lock; the rest arrive meanwhile; then the lock is free."""
    threads = [in_thread(lambda: group.run(writes[0]))]
    assert gate.waiting.wait(10)
    threads += [in_thread(lambda w=w: group.run(w)) for w in writes[1:]]
    deadline = time.monotonic() + 10
    while group.joined < joining and time.monotonic() < deadline:
        time.sleep(0.001)
    assert group.joined == joining
    gate.go.set()
    for thread, _out in threads:
        thread.join(10)
    return threads


def test_writes_that_queue_together_commit_in_one_transaction_each_with_its_own_outcome():
    gate = Gate()
    group = GroupCommit(locked=gate)
    ran_in: dict[int, int] = {}
    threads = gathered(group, gate, [writer(n, ran_in) for n in range(4)], joining=3)

    assert [out for _thread, out in threads] == [{"value": n * 10} for n in range(4)]
    assert gate.transactions == 1
    # Every write ran in the thread that held the transaction, with its connection.
    assert set(ran_in.values()) == {threads[0][0].ident}
    assert sorted(AuditEntry.objects.values_list("data__n", flat=True)) == [0, 1, 2, 3]
    assert walk_chain().intact


def test_a_write_that_fails_is_rolled_back_alone_and_its_thread_gets_the_error():
    gate = Gate()
    group = GroupCommit(locked=gate)
    ran_in: dict[int, int] = {}
    writes = [writer(n, ran_in, fails=n == 2) for n in range(4)]
    threads = gathered(group, gate, writes, joining=3)

    outs = [out for _thread, out in threads]
    assert isinstance(outs[2]["error"], ValueError)
    assert [outs[n] for n in (0, 1, 3)] == [{"value": 0}, {"value": 10}, {"value": 30}]
    assert sorted(AuditEntry.objects.values_list("data__n", flat=True)) == [0, 1, 3]
    assert walk_chain().intact


def test_a_transaction_that_fails_fails_every_write_in_it_and_stores_nothing():
    gate = Gate()
    gate.fail = RuntimeError("the lock was lost")
    group = GroupCommit(locked=gate)
    threads = gathered(group, gate, [writer(n, {}) for n in range(3)], joining=2)

    assert [type(out.get("error")) for _thread, out in threads] == [RuntimeError] * 3
    assert not AuditEntry.objects.exists()
    assert group.joined == 0
    # The next write finds no transaction gathering and runs one of its own.
    gate.fail = None
    assert group.run(writer(9, {})) == 90
    assert list(AuditEntry.objects.values_list("data__n", flat=True)) == [9]


def test_a_full_batch_leaves_the_next_write_to_a_transaction_of_its_own():
    gate = Gate()
    group = GroupCommit(locked=gate, limit=2)
    ran_in: dict[int, int] = {}
    first, first_out = in_thread(lambda: group.run(writer(0, ran_in)))
    assert gate.waiting.wait(10)
    second, second_out = in_thread(lambda: group.run(writer(1, ran_in)))
    deadline = time.monotonic() + 10
    while group.joined < 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    third, third_out = in_thread(lambda: group.run(writer(2, ran_in)))
    time.sleep(0.2)
    assert group.joined == 1  # the third did not join: the batch was full
    gate.go.set()
    for thread in (first, second, third):
        thread.join(10)

    assert (first_out, second_out, third_out) == ({"value": 0}, {"value": 10}, {"value": 20})
    assert ran_in[1] == first.ident  # joined the first transaction
    assert ran_in[2] == third.ident  # a transaction of its own, in its own thread
    assert gate.transactions == 2
    assert walk_chain().intact


def test_a_caller_already_in_a_transaction_writes_there_alone():
    calls: list[int] = []
    group = GroupCommit(locked=lambda: calls.append(1))
    with transaction.atomic():
        assert group.run(writer(5, {})) == 50
        assert group.joined == 0
        transaction.set_rollback(True)
    # The caller's rollback took the write with it: it was the caller's transaction.
    assert not AuditEntry.objects.exists()
    assert calls == [1]


def test_a_connection_lost_during_a_batch_fails_every_write_in_it(path):
    # Django ends a transaction whose connection was lost with no error; the writes before
    # it in the batch must not be told they were stored.
    alias = "groupcommit_test"
    gate = Gate()
    group = GroupCommit(locked=gate, using=alias)

    def insert(value: str) -> Callable[[], str]:
        def write() -> str:
            with connections[alias].cursor() as cursor:
                cursor.execute("INSERT INTO t (v) VALUES (%s)", [value])
            return value

        return write

    def lose() -> str:
        connections[alias].close()  # as a dropped connection would
        return "lost"

    def submit(write: Callable[[], str]) -> tuple[threading.Thread, dict[str, Any]]:
        def run() -> Any:
            connections[alias] = wrapper(path, timeout=5)  # this thread's own
            try:
                return group.run(write)
            finally:
                connections[alias].close()

        return in_thread(run)

    threads = [submit(insert("first"))]
    assert gate.waiting.wait(10)
    threads += [submit(lose), submit(insert("after"))]
    deadline = time.monotonic() + 10
    while group.joined < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert group.joined == 2
    gate.go.set()
    for thread, _out in threads:
        thread.join(10)

    assert [type(out.get("error")) for _thread, out in threads] == [DatabaseError] * 3
    check = sqlite3.connect(str(path))
    assert check.execute("SELECT v FROM t").fetchall() == []
    check.close()
