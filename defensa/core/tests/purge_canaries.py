"""Seed rows that the purge will delete, or purge them (run inside a scratch install).

`python manage.py shell -c "from defensa.core.tests.purge_canaries import seed; seed()"`
prints the wrapped bytes of the data key that the purge will shred (hex), then, with
CANARY_HOLD=1, keeps its connection (so SQLite's WAL) open until stdin closes, like a web
worker would. `purge()` runs one pass 181 days later and holds the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from django.db import connection

# One report already folded into the main file (as SQLite's automatic checkpoint does every
# 1000 pages), one still in the WAL only.
PURGED_IN_FILE = "canary-purged-words-in-the-file-4c1d"
PURGED_IN_WAL = "canary-purged-words-in-the-wal-77e0"
CONTROL = "canary-kept-committee-9e2b"


def _hold(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if os.environ.get("CANARY_HOLD"):
        sys.stdin.read()
    connection.close()


def seed() -> None:
    from defensa.committees.models import Committee, Kind
    from defensa.core.tests.canary import CANARY_PHONE
    from defensa.reports.actions import receive_report
    from defensa.reports.models import Report

    # A row that stays (named retention: as long as the committee), to show the search works.
    Committee.objects.create(name=CONTROL, slug="kept", kind=Kind.NETWORK)
    keys = []
    for i, words in enumerate((PURGED_IN_FILE, PURGED_IN_WAL)):
        report = receive_report(
            {
                "category": "sighting",
                "zip_code": "90033",
                "contact": CANARY_PHONE,
                "description": words,
            },
            channel="web",
            idempotency_key=f"purge-canary-{i}",
        ).report
        keys.append(bytes(Report.objects.get(pk=report.pk).data_key.wrapped).hex())
        if i == 0 and connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    _hold(f"seeded {' '.join(keys)}")


def purge() -> None:
    from django.utils import timezone

    from defensa.core.retention import purge as run

    result = run(now=timezone.now() + dt.timedelta(days=181))
    _hold(f"purged {result.summary()}")
