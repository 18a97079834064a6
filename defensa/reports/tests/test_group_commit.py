"""Reports that queue for the write lock together are stored in one transaction, each as it
would be alone: grouped, deduplicated, sealed in the audit chain."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.db import connection, connections, transaction

from defensa.audit.log import verify_chain
from defensa.incidents.models import Incident
from defensa.reports import actions
from defensa.reports.actions import receive_report
from defensa.reports.models import Report
from defensa.reports.tests.test_receive_report import data

pytestmark = pytest.mark.django_db(transaction=True)


def submit(payload: dict[str, Any], key: str, out: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        try:
            out["received"] = receive_report(payload, channel="web", idempotency_key=key)
        except BaseException as exc:  # noqa: BLE001 (the test looks at it)
            out["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_reports_waiting_for_the_lock_together_are_stored_together_each_as_alone():
    first = data()
    # A second witness of the same raid, a few metres off; another raid far away; the first
    # phone sending its report again (the same key).
    second = data(lat=34.0431, lon=-118.2101, description="Dos camionetas en el muelle")
    elsewhere = data(lat=34.1000, lon=-118.3300, category="checkpoint")
    key = uuid.uuid4().hex
    submissions = [(first, key), (second, uuid.uuid4().hex), (elsewhere, uuid.uuid4().hex)]
    submissions.append((first, key))
    outs: list[dict[str, Any]] = [{} for _ in submissions]
    threads: list[threading.Thread] = []
    # This thread holds the write lock (SQLite's, or the intake's lock on PostgreSQL), as a
    # writer of another process would: the first report waits for it, the rest queue behind.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [actions._PG_INTAKE_LOCK])
        threads.append(submit(*submissions[0], outs[0]))
        time.sleep(0.3)  # the first is waiting for the lock now
        for (payload, k), out in zip(submissions[1:], outs[1:], strict=True):
            threads.append(submit(payload, k, out))
            deadline = time.monotonic() + 10
            while actions._INTAKE.joined < len(threads) - 1 and time.monotonic() < deadline:
                time.sleep(0.001)
        assert actions._INTAKE.joined == 3
    for thread in threads:
        thread.join(20)

    assert all("error" not in out for out in outs), outs
    received = [out["received"] for out in outs]
    assert [r.created for r in received[1:3]] == [True, True]
    # The same submission twice: one report, and the one stored second says so.
    assert {received[0].created, received[3].created} == {True, False}
    assert received[3].report.pk == received[0].report.pk
    assert Report.objects.count() == 3
    raid = Incident.objects.get(pk=received[0].report.incident_id)
    assert received[1].report.incident_id == raid.pk  # grouped in the same transaction
    assert raid.independent_count == 2
    assert received[2].report.incident_id != raid.pk
    assert Incident.objects.count() == 2
    assert verify_chain()[1] is None
