"""`manage.py purge_expired [--every SECONDS]`: enforce every classified lifetime.

Deletes rows, blanks short-lived fields, deletes their files and shreds their data keys
(defensa/core/retention.py). When a pass fails, every network administrator is told through
the outbox (notify.queue_message), once per day and kind of failure, and the command exits
non-zero (in the loop: it keeps trying at the next pass).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.core.periodic import PeriodicCommand
from defensa.core.retention import purge
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority

log = logging.getLogger(__name__)


def alert_admins(problem: str, *, now: dt.datetime) -> int:
    """Queue "purge failed" to every active network administrator. Returns how many."""
    admins = list(User.objects.filter(is_network_admin=True, is_active=True))
    with transaction.atomic():
        for admin in admins:
            queue_message(
                admin,
                "purge_failed",
                {"problem": problem},
                priority=Priority.URGENT,
                idempotency_key=f"purge_failed:{now.date().isoformat()}:{problem}:{admin.pk}",
                audit=False,
            )
        record("retention.purge_failed", problem=problem, alerted=len(admins))
    return len(admins)


def run_once(now: dt.datetime | None = None) -> str:
    """One pass. Raises CommandError after alerting the admins when it fails."""
    now = now or timezone.now()
    try:
        result = purge(now=now)
    except Exception as exc:
        log.exception("purge_expired failed")
        problem = type(exc).__name__
        alert_admins(problem, now=now)
        raise CommandError(f"purge_expired failed: {problem}: {exc}") from exc
    with transaction.atomic():
        record(
            "retention.purged",
            deleted=sum(result.deleted.values()),
            blanked=sum(result.blanked.values()),
            shredded=result.shredded,
        )
    return result.summary()


class Command(PeriodicCommand):
    help = "Delete or blank everything past its classified retention; shred its data keys."

    def one_pass(self, **options: Any) -> None:
        try:
            summary = run_once()
            if self.verbosity > 0:
                self.stdout.write(f"purge_expired: {summary}")
        except CommandError as exc:
            if self.every <= 0:
                raise
            self.stderr.write(str(exc))  # in the loop: tried again at the next pass
