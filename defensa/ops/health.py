"""Is this installation able to take a report and deliver an alert right now?

Each check answers only yes or no: the health endpoint is polled without credentials, so it
says nothing a stranger could learn from (no counts, no ages, no names). The figures behind
each answer are in the metrics (`defensa/ops/metrics.py`), behind a token.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from defensa.core.heartbeat.models import Heartbeat
from defensa.notify.models import Delivery, Priority, Status


@dataclass(frozen=True)
class Figures:
    database: bool
    worker_age_s: float | None  # seconds since the freshest delivery worker's beat; None: never
    oldest_urgent_s: float | None  # the longest an urgent message has been due and unsent
    disk_free_bytes: int


def figures(now: dt.datetime | None = None) -> Figures:
    now = now or timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
    except Exception:  # noqa: BLE001 - any failure is the answer "no"
        return Figures(False, None, None, _disk_free())
    last = Heartbeat.objects.filter(kind="deliver").order_by("-beat_at").values_list("beat_at")[:1]
    worker_age = (now - last[0][0]).total_seconds() if last else None
    oldest = (
        Delivery.objects.filter(
            status__in=[Status.QUEUED, Status.SENDING],
            priority__gte=Priority.URGENT,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at")[:1]
    )
    oldest_s = max(0.0, (now - oldest[0][0]).total_seconds()) if oldest else None
    return Figures(database, worker_age, oldest_s, _disk_free())


def _disk_free() -> int:
    return shutil.disk_usage(settings.DATA_DIR).free


def checks(f: Figures) -> dict[str, bool]:
    return {
        "database": f.database,
        "delivery_worker": f.worker_age_s is not None
        and f.worker_age_s <= settings.HEALTH_WORKER_SILENCE_SECONDS,
        "urgent_messages": f.oldest_urgent_s is None
        or f.oldest_urgent_s <= settings.HEALTH_URGENT_LATE_SECONDS,
        "disk": f.disk_free_bytes >= settings.HEALTH_MIN_FREE_MB * 1024 * 1024,
    }
